package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestUpload guards the page's file picker: a picked file and a sample are stored in the fake
// Slack as the person's private file, and their ids are what a file_input's state carries.
func TestUpload(t *testing.T) {
	ws, err := NewWorkspace()
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	srv := httptest.NewServer(NewUI(ws, People))
	defer srv.Close()
	post := func(path, ctype string, body []byte) map[string]string {
		t.Helper()
		resp, err := http.Post(srv.URL+path, ctype, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]string
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatalf("%s: %v (status %d)", path, err, resp.StatusCode)
		}
		return out
	}
	user := People[0].ID

	t.Run("PickedFile", func(t *testing.T) {
		out := post("/api/upload?user="+user+"&name=lunch.pdf", "application/pdf", []byte("%PDF-1.4 lunch"))
		if !strings.HasPrefix(out["id"], "F") || out["name"] != "lunch.pdf" {
			t.Fatalf("upload = %v; want a file id and the name", out)
		}
		for _, f := range ws.Files() {
			if f.ID == out["id"] && (f.User != user || f.Filetype != "pdf" || len(f.Shared) != 0) {
				t.Errorf("stored %+v; want %s's private pdf", f, user)
			}
		}
	})
	t.Run("Sample", func(t *testing.T) {
		out := post("/api/sample", "application/json", []byte(`{"user":"`+user+`","text":"taxi-118.40-usd.png"}`))
		if !strings.HasPrefix(out["id"], "F") {
			t.Fatalf("sample = %v; want a file id", out)
		}
		if out := post("/api/sample", "application/json", []byte(`{"user":"`+user+`","text":"../sandbox.go"}`)); out["error"] == "" {
			t.Errorf("an unknown sample = %v; want an error", out)
		}
	})
	t.Run("ErrUnknownUser", func(t *testing.T) {
		resp, err := http.Post(srv.URL+"/api/upload?user=UNOBODY&name=x.png", "image/png", strings.NewReader("x"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("status %d; want 400", resp.StatusCode)
		}
	})
}
