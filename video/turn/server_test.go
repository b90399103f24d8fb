package turn

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/netip"
	"testing"
	"time"

	pturn "github.com/pion/turn/v5"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	secret   = []byte("0123456789abcdef0123456789abcdef")
	previous = []byte("fedcba9876543210fedcba9876543210")
)

func start(t *testing.T, mutate ...func(*Config)) *Server {
	t.Helper()
	cfg := Config{Realm: "rathaus.test", UDPAddr: "127.0.0.1:0", TCPAddr: "127.0.0.1:0", RelayIP: net.IPv4(127, 0, 0, 1),
		Secrets: [][]byte{secret, previous}, Log: zerolog.Nop()}
	for _, m := range mutate {
		m(&cfg)
	}
	s, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// client dials the server over UDP (or TCP/TLS when conn is given) with
// a username and password.
func client(t *testing.T, server net.Addr, conn net.PacketConn, user, pass string) *pturn.Client {
	t.Helper()
	if conn == nil {
		var err error
		conn, err = (&net.ListenConfig{}).ListenPacket(context.Background(), "udp4", "127.0.0.1:0")
		require.NoError(t, err)
	}
	c, err := pturn.NewClient(&pturn.ClientConfig{TURNServerAddr: server.String(), STUNServerAddr: server.String(),
		Username: user, Password: pass, Realm: "rathaus.test", Conn: conn, RTO: 200 * time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, c.Listen())
	t.Cleanup(func() { c.Close(); _ = conn.Close() })
	return c
}

func allocate(t *testing.T, c *pturn.Client) (net.PacketConn, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.AllocateWithContext(ctx)
}

func echoPeer(t *testing.T) net.PacketConn {
	t.Helper()
	peer, err := (&net.ListenConfig{}).ListenPacket(context.Background(), "udp4", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = peer.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := peer.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = peer.WriteTo(buf[:n], from)
		}
	}()
	return peer
}

// roundTrip sends a datagram through the relay to the echo peer and back.
func roundTrip(t *testing.T, relay net.PacketConn, peer net.Addr) {
	t.Helper()
	_, err := relay.WriteTo([]byte("hallo"), peer)
	require.NoError(t, err)
	require.NoError(t, relay.SetReadDeadline(time.Now().Add(5*time.Second)))
	buf := make([]byte, 100)
	n, _, err := relay.ReadFrom(buf)
	require.NoError(t, err)
	assert.Equal(t, "hallo", string(buf[:n]))
}

func TestRelayWithValidCredentials(t *testing.T) {
	s := start(t, func(c *Config) { c.AllowPeers = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")} })
	ice := s.ICEServers("abc123", time.Minute)
	require.Len(t, ice, 1)
	assert.Equal(t, []string{"turn:" + s.UDPAddr().String() + "?transport=udp", "turn:" + s.TCPAddr().String() + "?transport=tcp"}, ice[0].URLs)
	peer := echoPeer(t)

	relay, err := allocate(t, client(t, s.UDPAddr(), nil, ice[0].Username, ice[0].Credential))
	require.NoError(t, err)
	roundTrip(t, relay, peer.LocalAddr())

	tcp, err := (&net.Dialer{}).DialContext(context.Background(), "tcp", s.TCPAddr().String())
	require.NoError(t, err)
	relay, err = allocate(t, client(t, s.TCPAddr(), pturn.NewSTUNConn(tcp), ice[0].Username, ice[0].Credential))
	require.NoError(t, err)
	roundTrip(t, relay, peer.LocalAddr())
}

func TestCredentialsAreChecked(t *testing.T) {
	now := time.Now()
	s := start(t)
	user, pass, _ := Credentials(secret, "abc", time.Minute, now)
	oldUser, oldPass, _ := Credentials(previous, "abc", time.Minute, now)
	expUser, expPass, _ := Credentials(secret, "abc", time.Minute, now.Add(-2*time.Minute))
	strangerUser, strangerPass, _ := Credentials([]byte("an unknown secret of 32 bytes!!!"), "abc", time.Minute, now)
	for name, tc := range map[string]struct {
		user, pass string
		ok         bool
	}{
		"current secret":          {user, pass, true},
		"previous secret":         {oldUser, oldPass, true},
		"wrong password":          {user, "d3Jvbmc=", false},
		"expired":                 {expUser, expPass, false},
		"unknown secret":          {strangerUser, strangerPass, false},
		"not a REST username":     {"anna", pass, false},
		"no key id":               {"9999999999:abc", pass, false},
		"password of another one": {user, oldPass, false},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := allocate(t, client(t, s.UDPAddr(), nil, tc.user, tc.pass))
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "401", "refused as Unauthorized")
		})
	}
}

func TestRelayToSpecialAddressesIsRefused(t *testing.T) {
	s := start(t)
	ice := s.ICEServers("abc", time.Minute)
	c := client(t, s.UDPAddr(), nil, ice[0].Username, ice[0].Credential)
	_, err := allocate(t, c)
	require.NoError(t, err)
	for _, ip := range []string{"127.0.0.1", "10.0.0.1", "10.255.1.2", "169.254.169.254", "192.168.1.1", "172.20.0.1", "100.64.0.1", "0.0.0.0", "::ffff:127.0.0.1"} {
		err := c.CreatePermission(&net.UDPAddr{IP: net.ParseIP(ip), Port: 9})
		require.Error(t, err, ip)
		assert.Contains(t, err.Error(), "403", "%s refused as Forbidden", ip)
	}
	// An IPv6 peer of an IPv4 allocation is refused before the filter
	// (443 Peer Address Family Mismatch); TestPeerCategory covers IPv6.
	for _, ip := range []string{"::1", "fe80::1"} {
		assert.Error(t, c.CreatePermission(&net.UDPAddr{IP: net.ParseIP(ip), Port: 9}), ip)
	}
	assert.NoError(t, c.CreatePermission(&net.UDPAddr{IP: net.ParseIP("203.0.113.5"), Port: 9}), "a public address is allowed")
}

func TestRelayOverTLS(t *testing.T) {
	cert := selfSigned(t)
	s := start(t, func(c *Config) {
		c.UDPAddr, c.TCPAddr, c.TLSAddr = "", "", "127.0.0.1:0"
		c.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		c.AllowPeers = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
	ice := s.ICEServers("abc", time.Minute)
	assert.Equal(t, []string{"turns:" + s.TLSAddr().String() + "?transport=tcp"}, ice[0].URLs)
	conn, err := (&tls.Dialer{Config: &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}}).DialContext( //nolint:gosec // a test's own self-signed certificate
		context.Background(), "tcp", s.TLSAddr().String())
	require.NoError(t, err)
	relay, err := allocate(t, client(t, s.TLSAddr(), pturn.NewSTUNConn(conn), ice[0].Username, ice[0].Credential))
	require.NoError(t, err)
	roundTrip(t, relay, echoPeer(t).LocalAddr())
}

func TestConfigRefusals(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no secret":     {UDPAddr: "127.0.0.1:0", RelayIP: net.IPv4(127, 0, 0, 1)},
		"short secret":  {UDPAddr: "127.0.0.1:0", RelayIP: net.IPv4(127, 0, 0, 1), Secrets: [][]byte{[]byte("short")}},
		"no listener":   {RelayIP: net.IPv4(127, 0, 0, 1), Secrets: [][]byte{secret}},
		"TLS, no cert":  {TLSAddr: "127.0.0.1:0", RelayIP: net.IPv4(127, 0, 0, 1), Secrets: [][]byte{secret}},
		"no relay addr": {UDPAddr: "127.0.0.1:0", Secrets: [][]byte{secret}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := New(cfg)
			assert.Error(t, err)
		})
	}
}

func TestPeerCategory(t *testing.T) {
	allow := []netip.Prefix{netip.MustParsePrefix("10.20.0.0/16")}
	for ip, want := range map[string]string{
		"127.0.0.1": "loopback", "127.8.9.10": "loopback", "::1": "loopback", "::ffff:127.0.0.1": "loopback",
		"10.0.0.1": "private", "172.31.255.255": "private", "192.168.0.1": "private", "fd00::1": "private",
		"::ffff:10.1.2.3": "private", "100.100.100.100": "shared",
		"169.254.169.254": "link-local", "fe80::1": "link-local", "::ffff:169.254.169.254": "link-local",
		"0.0.0.0": "unspecified", "::": "unspecified", "224.0.0.1": "multicast", "ff02::1": "multicast",
		"255.255.255.255": "broadcast",
		"10.20.30.40":     "", "203.0.113.5": "", "2001:db8::1": "", "8.8.8.8": "",
	} {
		assert.Equal(t, want, peerCategory(net.ParseIP(ip), allow), ip)
	}
}

func FuzzUsername(f *testing.F) {
	user, _, _ := Credentials(secret, "abc", time.Minute, time.Now())
	for _, s := range []string{user, "", ":", "1:", ":x", "99999999999999:abcdef12-x", "1700000000:abcdef12-", "x:abcdef12-y", "1700000000:abcdef12-\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		kid, err := checkUsername(s, time.Unix(1_700_000_000, 0))
		if err == nil && len(kid) != 8 {
			t.Fatalf("accepted %q with key id %q", s, kid)
		}
	})
}

func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	require.NoError(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
