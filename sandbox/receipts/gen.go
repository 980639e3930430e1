//go:build ignore

// gen draws the sandbox's sample receipts: small PNGs with a few lines of text in a 5×7 bitmap
// font (no font package needed), and one smudged picture no one could read. The offline
// extractor (sandbox/receipts.go) knows them by their SHA-256, so after running this, update
// the hashes there: `go run gen.go` prints them.
//
//	cd sandbox/receipts && go run gen.go
package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"strings"
)

// glyphs is a 5×7 font: seven rows of five pixels, '#' for ink.
var glyphs = map[rune][7]string{
	'A': {".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"},
	'B': {"####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."},
	'C': {".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."},
	'D': {"####.", "#...#", "#...#", "#...#", "#...#", "#...#", "####."},
	'E': {"#####", "#....", "#....", "####.", "#....", "#....", "#####"},
	'F': {"#####", "#....", "#....", "####.", "#....", "#....", "#...."},
	'G': {".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".###."},
	'H': {"#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"},
	'I': {".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."},
	'K': {"#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"},
	'L': {"#....", "#....", "#....", "#....", "#....", "#....", "#####"},
	'M': {"#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"},
	'N': {"#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#", "#...#"},
	'O': {".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."},
	'P': {"####.", "#...#", "#...#", "####.", "#....", "#....", "#...."},
	'R': {"####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"},
	'S': {".####", "#....", "#....", ".###.", "....#", "....#", "####."},
	'T': {"#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."},
	'U': {"#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."},
	'V': {"#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.."},
	'W': {"#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#."},
	'X': {"#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"},
	'Y': {"#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."},
	'0': {".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."},
	'1': {"..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."},
	'2': {".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"},
	'3': {"####.", "....#", "....#", ".###.", "....#", "....#", "####."},
	'4': {"...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."},
	'5': {"#####", "#....", "####.", "....#", "....#", "#...#", ".###."},
	'6': {".###.", "#....", "#....", "####.", "#...#", "#...#", ".###."},
	'7': {"#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."},
	'8': {".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."},
	'9': {".###.", "#...#", "#...#", ".####", "....#", "....#", ".###."},
	'.': {".....", ".....", ".....", ".....", ".....", ".##..", ".##.."},
	':': {".....", ".##..", ".##..", ".....", ".##..", ".##..", "....."},
	'-': {".....", ".....", ".....", "#####", ".....", ".....", "....."},
	'#': {".#.#.", ".#.#.", "#####", ".#.#.", "#####", ".#.#.", ".#.#."},
	' ': {".....", ".....", ".....", ".....", ".....", ".....", "....."},
}

const scale = 2 // each font pixel is scale×scale image pixels

var (
	paper = color.Gray{0xfb}
	ink   = color.Gray{0x22}
)

// receipt draws lines of text on a narrow till slip.
func receipt(lines []string) image.Image {
	const w = 230
	h := 16 + len(lines)*9*scale + 16
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = paper.Y
	}
	for n, line := range lines {
		x, y := 12, 16+n*9*scale
		for _, r := range strings.ToUpper(line) {
			g, ok := glyphs[r]
			if !ok {
				panic(fmt.Sprintf("no glyph for %q", r))
			}
			for gy, row := range g {
				for gx, c := range row {
					if c != '#' {
						continue
					}
					for dy := range scale {
						for dx := range scale {
							img.SetGray(x+gx*scale+dx, y+gy*scale+dy, ink)
						}
					}
				}
			}
			x += 6 * scale
		}
	}
	return img
}

// smudged is a slip soaked beyond reading: grey blotches, no text.
func smudged() image.Image {
	const w, h = 200, 160
	img := image.NewGray(image.Rect(0, 0, w, h))
	rnd := rand.New(rand.NewPCG(7, 11))
	for i := range img.Pix {
		img.Pix[i] = 0xe0 + uint8(rnd.IntN(0x1c))
	}
	for range 40 {
		cx, cy, r := rnd.IntN(w), rnd.IntN(h), 4+rnd.IntN(14)
		shade := uint8(0x70 + rnd.IntN(0x50))
		for y := cy - r; y <= cy+r; y++ {
			for x := cx - r; x <= cx+r; x++ {
				if (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r && image.Pt(x, y).In(img.Rect) {
					img.SetGray(x, y, color.Gray{shade})
				}
			}
		}
	}
	return img
}

func main() {
	samples := []struct {
		name string
		img  image.Image
	}{
		{"taxi-118.40-usd.png", receipt([]string{"CITY CAB CO", "TAXI #4127", "", "TO AIRPORT", "FARE     108.40", "TIP       10.00", "", "TOTAL USD 118.40", "", "THANK YOU"})},
		{"hotel-80.00-usd.png", receipt([]string{"HARBOR INN", "ROOM 12", "", "1 NIGHT   72.00", "TAX        8.00", "", "TOTAL USD 80.00", "", "THANK YOU"})},
		{"smudged.png", smudged()},
	}
	for _, s := range samples {
		var buf bytes.Buffer
		enc := png.Encoder{CompressionLevel: png.BestCompression}
		if err := enc.Encode(&buf, s.img); err != nil {
			panic(err)
		}
		if err := os.WriteFile(s.name, buf.Bytes(), 0o644); err != nil {
			panic(err)
		}
		fmt.Printf("%x  %s (%d bytes)\n", sha256.Sum256(buf.Bytes()), s.name, buf.Len())
	}
}
