// Package turn is rathaus's embedded TURN server (RFC 8656) on pion/turn,
// for participants whose network lets no UDP through to the media port:
// UDP, TCP and TLS listeners, short-lived HMAC credentials handed out with
// each call grant, and relays only to addresses the operator allows
// (docs/video.md, "TURN"). It knows no calls, no Matrix and no database.
package turn

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/pion/logging"
	pturn "github.com/pion/turn/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// MinSecretLength is the shortest secret New accepts.
const MinSecretLength = 32

// Config configures New.
type Config struct {
	// Realm is the TURN realm (e.g. the authority's domain).
	Realm string
	// UDPAddr, TCPAddr and TLSAddr are where to listen ("host:port";
	// empty: not at all); at least one is needed, TLS needs TLS.
	UDPAddr, TCPAddr, TLSAddr string
	TLS                       *tls.Config
	// RelayIP is the address relays are opened on; PublicIP the one
	// announced for them (RelayIP if nil).
	RelayIP, PublicIP net.IP
	// Secrets sign credentials: the first signs, all verify (rotation).
	Secrets [][]byte
	// AllowPeers are exceptions to the refusal of loopback, private,
	// link-local and other special addresses as relay peers.
	AllowPeers []netip.Prefix
	// PublicHost is the host name or address in the ICE server URLs.
	PublicHost string
	// Now is the clock (time.Now if nil).
	Now        func() time.Time
	Log        zerolog.Logger
	Registerer prometheus.Registerer
}

// ICEServer is a TURN server entry for a browser's RTCConfiguration.
type ICEServer struct {
	URLs       []string
	Username   string
	Credential string
}

// Server is a running TURN server.
type Server struct {
	cfg     Config
	srv     *pturn.Server
	udp     net.PacketConn
	tcp     net.Listener
	tls     net.Listener
	metrics serverMetrics
}

type serverMetrics struct {
	allocations  prometheus.Counter
	authFailures prometheus.Counter
	refused      *prometheus.CounterVec
}

// New validates the config, opens the listeners and starts serving.
func New(cfg Config) (*Server, error) {
	if len(cfg.Secrets) == 0 {
		return nil, errors.New("turn: a secret is required")
	}
	for _, s := range cfg.Secrets {
		if len(s) < MinSecretLength {
			return nil, fmt.Errorf("turn: a secret must have at least %d bytes", MinSecretLength)
		}
	}
	if cfg.UDPAddr == "" && cfg.TCPAddr == "" && cfg.TLSAddr == "" {
		return nil, errors.New("turn: no listener configured")
	}
	if cfg.TLSAddr != "" && cfg.TLS == nil {
		return nil, errors.New("turn: the TLS listener needs a certificate")
	}
	if cfg.RelayIP == nil {
		return nil, errors.New("turn: a relay address is required")
	}
	if cfg.PublicIP == nil {
		cfg.PublicIP = cfg.RelayIP
	}
	if cfg.PublicHost == "" {
		cfg.PublicHost = cfg.PublicIP.String()
	}
	if cfg.Realm == "" {
		cfg.Realm = "rathaus"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg, metrics: newMetrics(cfg.Registerer)}
	if err := s.listen(); err != nil {
		s.closeListeners()
		return nil, err
	}
	relay := func() pturn.RelayAddressGenerator {
		return &pturn.RelayAddressGeneratorStatic{RelayAddress: cfg.PublicIP, Address: cfg.RelayIP.String()}
	}
	sc := pturn.ServerConfig{Realm: cfg.Realm, AuthHandler: s.authenticate, LoggerFactory: &pionLogs{log: cfg.Log},
		EventHandler: pturn.EventHandler{OnAllocationCreated: func(net.Addr, net.Addr, string, string, string, net.Addr, int) {
			s.metrics.allocations.Inc()
		}}}
	if s.udp != nil {
		sc.PacketConnConfigs = append(sc.PacketConnConfigs, pturn.PacketConnConfig{PacketConn: s.udp,
			RelayAddressGenerator: relay(), PermissionHandler: s.permit})
	}
	for _, l := range []net.Listener{s.tcp, s.tls} {
		if l != nil {
			sc.ListenerConfigs = append(sc.ListenerConfigs, pturn.ListenerConfig{Listener: l,
				RelayAddressGenerator: relay(), PermissionHandler: s.permit})
		}
	}
	srv, err := pturn.NewServer(sc)
	if err != nil {
		s.closeListeners()
		return nil, fmt.Errorf("turn: failed to start: %w", err)
	}
	s.srv = srv
	return s, nil
}

func (s *Server) listen() error {
	var lc net.ListenConfig
	ctx := context.Background()
	var err error
	if s.cfg.UDPAddr != "" {
		if s.udp, err = lc.ListenPacket(ctx, "udp", s.cfg.UDPAddr); err != nil {
			return fmt.Errorf("turn: failed to listen on UDP %s: %w", s.cfg.UDPAddr, err)
		}
	}
	if s.cfg.TCPAddr != "" {
		if s.tcp, err = lc.Listen(ctx, "tcp", s.cfg.TCPAddr); err != nil {
			return fmt.Errorf("turn: failed to listen on TCP %s: %w", s.cfg.TCPAddr, err)
		}
	}
	if s.cfg.TLSAddr != "" {
		l, err := lc.Listen(ctx, "tcp", s.cfg.TLSAddr)
		if err != nil {
			return fmt.Errorf("turn: failed to listen on TLS %s: %w", s.cfg.TLSAddr, err)
		}
		s.tls = tls.NewListener(l, s.cfg.TLS)
	}
	return nil
}

func (s *Server) closeListeners() {
	if s.udp != nil {
		_ = s.udp.Close()
	}
	for _, l := range []net.Listener{s.tcp, s.tls} {
		if l != nil {
			_ = l.Close()
		}
	}
}

// Close stops the server and its listeners.
func (s *Server) Close() error {
	return s.srv.Close()
}

// UDPAddr, TCPAddr and TLSAddr are the bound listeners (nil if off).
func (s *Server) UDPAddr() net.Addr {
	if s.udp == nil {
		return nil
	}
	return s.udp.LocalAddr()
}

// TCPAddr is the bound TCP listener, nil if off.
func (s *Server) TCPAddr() net.Addr {
	if s.tcp == nil {
		return nil
	}
	return s.tcp.Addr()
}

// TLSAddr is the bound TLS listener, nil if off.
func (s *Server) TLSAddr() net.Addr {
	if s.tls == nil {
		return nil
	}
	return s.tls.Addr()
}

// ICEServers are the TURN entries for one participant, with credentials
// valid for ttl. id is opaque (see Credentials).
func (s *Server) ICEServers(id string, ttl time.Duration) []ICEServer {
	user, pass, _ := Credentials(s.cfg.Secrets[0], id, ttl, s.cfg.Now())
	host := s.cfg.PublicHost
	port := func(a net.Addr) string {
		_, p, _ := net.SplitHostPort(a.String())
		return net.JoinHostPort(host, p)
	}
	var urls []string
	if a := s.UDPAddr(); a != nil {
		urls = append(urls, "turn:"+port(a)+"?transport=udp")
	}
	if a := s.TCPAddr(); a != nil {
		urls = append(urls, "turn:"+port(a)+"?transport=tcp")
	}
	if a := s.TLSAddr(); a != nil {
		urls = append(urls, "turns:"+port(a)+"?transport=tcp")
	}
	return []ICEServer{{URLs: urls, Username: user, Credential: pass}}
}

// authenticate is pion's AuthHandler: the long-term key of a username
// whose expiry has not passed and whose password one of the secrets made.
// pion compares the request's MESSAGE-INTEGRITY with that key, so a
// wrong password, an unknown secret or an expired username all end in
// 401 Unauthorized.
func (s *Server) authenticate(ra *pturn.RequestAttributes) (string, []byte, bool) {
	kid, err := checkUsername(ra.Username, s.cfg.Now())
	if err == nil {
		for _, secret := range s.cfg.Secrets {
			if keyID(secret) == kid {
				return ra.Username, pturn.GenerateAuthKey(ra.Username, ra.Realm, password(secret, ra.Username)), true
			}
		}
		err = errors.New("turn: the credential's secret is unknown")
	}
	s.metrics.authFailures.Inc()
	s.cfg.Log.Debug().Err(err).Msg("Refused a TURN credential")
	return "", nil, false
}

// permit is pion's PermissionHandler for CreatePermission and
// ChannelBind.
func (s *Server) permit(_ net.Addr, peer net.IP) bool {
	if c := peerCategory(peer, s.cfg.AllowPeers); c != "" {
		s.metrics.refused.WithLabelValues(c).Inc()
		s.cfg.Log.Debug().Str("category", c).Msg("Refused a TURN permission")
		return false
	}
	return true
}

func newMetrics(reg prometheus.Registerer) serverMetrics {
	m := serverMetrics{
		allocations: prometheus.NewCounter(prometheus.CounterOpts{Name: "rathaus_turn_allocations_total",
			Help: "TURN allocations created."}),
		authFailures: prometheus.NewCounter(prometheus.CounterOpts{Name: "rathaus_turn_auth_failures_total",
			Help: "TURN requests with a malformed or expired username."}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rathaus_turn_refused_permissions_total",
			Help: "TURN permissions refused, by the kind of peer address."}, []string{"category"}),
	}
	if reg != nil {
		reg.MustRegister(m.allocations, m.authFailures, m.refused)
	}
	return m
}

// pionLogs sends pion's TURN logs to zerolog at trace level; their texts
// may name addresses, so they stay in a field.
type pionLogs struct{ log zerolog.Logger }

func (f *pionLogs) NewLogger(scope string) logging.LeveledLogger {
	return &pionLogger{log: f.log.With().Str("pion", scope).Logger()}
}

type pionLogger struct{ log zerolog.Logger }

func (l *pionLogger) at(msg string) { l.log.Trace().Str("detail", msg).Msg("Message from pion") }

func (l *pionLogger) Trace(msg string)             { l.at(msg) }
func (l *pionLogger) Tracef(f string, args ...any) { l.at(fmt.Sprintf(f, args...)) }
func (l *pionLogger) Debug(msg string)             { l.at(msg) }
func (l *pionLogger) Debugf(f string, args ...any) { l.at(fmt.Sprintf(f, args...)) }
func (l *pionLogger) Info(msg string)              { l.at(msg) }
func (l *pionLogger) Infof(f string, args ...any)  { l.at(fmt.Sprintf(f, args...)) }
func (l *pionLogger) Warn(msg string)              { l.at(msg) }
func (l *pionLogger) Warnf(f string, args ...any)  { l.at(fmt.Sprintf(f, args...)) }
func (l *pionLogger) Error(msg string)             { l.at(msg) }
func (l *pionLogger) Errorf(f string, args ...any) { l.at(fmt.Sprintf(f, args...)) }
