package api

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"
)

func TestInternalAddresses(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1": true, "::1": true, "10.0.0.8": true, "172.16.5.4": true, "192.168.1.1": true,
		"169.254.169.254": true, "fe80::1": true, "fd00::1": true, "0.0.0.0": true, "::": true, "100.64.0.1": true,
		"::ffff:10.0.0.1": true, "::ffff:127.0.0.1": true, "64:ff9b::a00:1": true, "2002:a00:1::": true, "255.255.255.255": true,
		"224.0.0.1": true, "8.8.8.8": false, "2606:4700:4700::1111": false, "93.184.216.34": false,
	} {
		if got := internal(netip.MustParseAddr(addr)) != ""; got != want {
			t.Errorf("internal(%s) = %v, want %v", addr, got, want)
		}
	}
}

func TestCheckCallbackURL(t *testing.T) {
	a := newAllowList([]string{"hooks.intranet", "10.1.2.3", "[::1]"})
	for url, ok := range map[string]bool{
		"https://hooks.example.com/x":  true,
		"https://8.8.8.8/x":            true,
		"http://hooks.intranet/x":      true,
		"http://HOOKS.intranet./x":     true,
		"https://10.1.2.3:8443/x":      true,
		"http://[::1]:9000/x":          true,
		"http://hooks.example.com/x":   false,
		"ftp://hooks.example.com/x":    false,
		"https:///x":                   false,
		"/relative":                    false,
		"https://[::ffff:127.0.0.1]/x": false,
		"https://10.1.2.4/x":           false,
		"https://app.localhost/x":      false,
		"https://user@hooks.example/x": false,
		"mailto:ops@example.com":       false,
		"https://hooks.example.com/" + string(make([]byte, 2048)): false,
	} {
		if _, err := a.check(url); (err == nil) != ok {
			t.Errorf("check(%.60q) = %v, want ok %v", url, err, ok)
		}
	}
	if err := ParseAllowList([]string{"hooks.intranet", "10.0.0.1", "::1", ""}); err != nil {
		t.Errorf("ParseAllowList: %v", err)
	}
	for _, bad := range []string{"http://hooks.intranet", "hooks.intranet:8080", "hooks.intranet/x", "."} {
		if ParseAllowList([]string{bad}) == nil {
			t.Errorf("ParseAllowList accepted %q", bad)
		}
	}
}

// TestDialerChecksTheResolvedAddress: a name is checked by the address it resolves to, at the
// socket, so a name that points inside (localhost here; DNS rebinding in life) is refused even
// though the URL check let it through.
func TestDialerChecksTheResolvedAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var refused *refusedError
	if _, err := newAllowList(nil).dialer(time.Second)(ctx, "tcp", "localhost:"+port); !errors.As(err, &refused) {
		t.Errorf("dialled localhost: %v", err)
	}
	conn, err := newAllowList([]string{"localhost"}).dialer(time.Second)(ctx, "tcp", "localhost:"+port)
	if err != nil {
		t.Errorf("an allowed host was refused: %v", err)
	} else {
		conn.Close()
	}
}
