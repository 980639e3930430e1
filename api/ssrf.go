package api

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Callbacks must not become a way into the company's network (SSRF): a callback URL is https://
// to a public address unless its host is on EXPENSEBOT_CALLBACK_ALLOW, which also permits
// http://. The URL is checked when it is submitted, and the address actually dialled is checked
// again at every delivery, after DNS: a name that resolved to a public address when submitted
// and to 10.0.0.1 since (DNS rebinding) is refused at the socket.

// allowList is the set of hosts on EXPENSEBOT_CALLBACK_ALLOW: names in lower case, IP
// addresses in their canonical form.
type allowList map[string]bool

// ParseAllowList checks the entries of EXPENSEBOT_CALLBACK_ALLOW: host names or IP addresses,
// without scheme, port or path.
func ParseAllowList(entries []string) error {
	for _, h := range entries {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		if _, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil {
			continue
		}
		if strings.ContainsAny(h, ":/@ ") || strings.Trim(h, ".") == "" {
			return fmt.Errorf("%q is not a host name or IP address (no scheme, port or path)", h)
		}
	}
	return nil
}

func newAllowList(entries []string) allowList {
	a := allowList{}
	for _, h := range entries {
		if h = canonicalHost(h); h != "" {
			a[h] = true
		}
	}
	return a
}

func canonicalHost(h string) string {
	h = strings.Trim(strings.TrimSpace(h), "[]")
	if ip, err := netip.ParseAddr(h); err == nil {
		return ip.Unmap().String()
	}
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

func (a allowList) has(host string) bool { return a[canonicalHost(host)] }

// check says whether raw may be a callback URL: https://, or http:// to an allowed host; no
// user name or password in it; not a loopback, private or otherwise internal address, nor
// localhost, unless allowed. Returns the parsed URL, or an EINVALID error naming callback_url.
func (a allowList) check(raw string) (*url.URL, error) {
	refuse := func(format string, args ...any) (*url.URL, error) {
		return nil, fieldError("callback_url", "callback_url "+format, args...)
	}
	if len(raw) > 2048 {
		return refuse("is longer than 2048 characters.")
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return refuse("must be an absolute https:// URL.")
	}
	host := u.Hostname()
	allowed := a.has(host)
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && allowed:
	case u.Scheme == "http":
		return refuse("must use https://; http:// is only for hosts on EXPENSEBOT_CALLBACK_ALLOW, and %s is not one.", host)
	default:
		return refuse("must use https://, not %s://.", u.Scheme)
	}
	if u.User != nil {
		return refuse("must not carry a user name or password; put a secret in the path if the receiver needs one, and check the signature.")
	}
	if allowed {
		return u, nil
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if why := internal(ip); why != "" {
			return refuse("points at %s, %s; only hosts on EXPENSEBOT_CALLBACK_ALLOW may.", host, why)
		}
	}
	if h := canonicalHost(host); h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return refuse("points at this machine (%s); only hosts on EXPENSEBOT_CALLBACK_ALLOW may.", host)
	}
	return u, nil
}

// internal says why ip is no address for a callback to reach on the public internet, or "".
func internal(ip netip.Addr) string {
	ip = ip.Unmap()
	switch {
	case !ip.IsValid():
		return "not an address"
	case ip.IsLoopback():
		return "a loopback address"
	case ip.IsPrivate():
		return "a private address"
	case ip.IsUnspecified():
		return "an unspecified address"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return "a link-local address (cloud metadata lives there)"
	case ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		return "a multicast address"
	}
	for _, p := range reserved {
		if p.Contains(ip) {
			return "a reserved address (" + p.String() + ")"
		}
	}
	return ""
}

// reserved are special-purpose ranges netip has no predicate for (RFC 6890 and successors).
var reserved = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT, often internal
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and 255.255.255.255
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64: may embed an internal IPv4 address
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("2002::/16"),       // 6to4: may embed an internal IPv4 address
	netip.MustParsePrefix("100::/64"),        // discard
}

// refusedError is a dial the SSRF guard stopped.
type refusedError struct{ addr, why string }

func (e *refusedError) Error() string {
	return fmt.Sprintf("refused to connect to %s: %s, and the host is not on EXPENSEBOT_CALLBACK_ALLOW", e.addr, e.why)
}

// dialer connects to allowed hosts wherever they resolve, and to every other host only at public
// addresses: the check runs in the dialer's Control, on the address about to be connected to,
// after DNS, so no resolution trick gets past it.
func (a allowList) dialer(timeout time.Duration) func(ctx context.Context, network, addr string) (net.Conn, error) {
	open := &net.Dialer{Timeout: timeout}
	guarded := &net.Dialer{Timeout: timeout, Control: func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return &refusedError{addr: address, why: "not an IP address"}
		}
		if why := internal(ap.Addr()); why != "" {
			return &refusedError{addr: address, why: why}
		}
		return nil
	}}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err == nil && a.has(host) {
			return open.DialContext(ctx, network, addr)
		}
		return guarded.DialContext(ctx, network, addr)
	}
}
