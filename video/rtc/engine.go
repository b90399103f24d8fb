// Package rtc is one participant's transport in rathaus's embedded media
// server: a pion peer connection with the codecs, header extensions and
// interceptors an SFU needs (NACK/RTX, RTCP reports, TWCC both ways, a
// send-side bandwidth estimate per subscriber), ICE on one shared UDP port
// and one shared ICE-TCP port, and "perfect negotiation" as the impolite
// peer. It knows nothing of calls, rooms or forwarding (video/sfu) and
// nothing of Matrix.
package rtc

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/logging"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
	"github.com/rs/zerolog"
)

// Config is the network side of the media server.
type Config struct {
	// UDP is the one UDP socket all peer connections share (ICE UDP mux).
	UDP net.PacketConn
	// TCP is the one ICE-TCP listener all peer connections share; nil
	// turns ICE-TCP off.
	TCP net.Listener
	// PublicIPs are announced as host candidates instead of the local
	// addresses (the server sits behind 1:1 NAT); empty announces the
	// local ones.
	PublicIPs []netip.Addr
	// IncludeLoopback gathers loopback candidates (tests, and a server
	// reached through a port forward on loopback).
	IncludeLoopback bool
	// Bandwidth bounds the estimate towards each subscriber, in bits per
	// second (defaults 1 Mbit/s start, 100 kbit/s min, 4 Mbit/s max).
	InitialBitrate, MinBitrate, MaxBitrate int
	// DisconnectedTimeout and FailedTimeout are ICE's (defaults 3 s and
	// 8 s).
	DisconnectedTimeout, FailedTimeout time.Duration
	Log                                zerolog.Logger
}

// Engine builds peer connections that share the server's sockets.
type Engine struct {
	cfg     Config
	setting webrtc.SettingEngine
	udpMux  ice.UDPMux
	tcpMux  ice.TCPMux
}

// NewEngine prepares the shared ICE muxes. Close releases them (not the
// socket and listener, which belong to the caller).
func NewEngine(cfg Config) (*Engine, error) {
	if cfg.UDP == nil {
		return nil, errors.New("rtc: a UDP socket is required")
	}
	if cfg.InitialBitrate <= 0 {
		cfg.InitialBitrate = 1_000_000
	}
	if cfg.MinBitrate <= 0 {
		cfg.MinBitrate = 100_000
	}
	if cfg.MaxBitrate <= 0 {
		cfg.MaxBitrate = 4_000_000
	}
	if cfg.DisconnectedTimeout <= 0 {
		cfg.DisconnectedTimeout = 3 * time.Second
	}
	if cfg.FailedTimeout <= 0 {
		cfg.FailedTimeout = 8 * time.Second
	}
	e := &Engine{cfg: cfg}
	lf := &pionLogs{log: cfg.Log}
	e.udpMux = webrtc.NewICEUDPMux(lf.NewLogger("ice-udp"), cfg.UDP)
	s := webrtc.SettingEngine{LoggerFactory: lf}
	s.SetICEUDPMux(e.udpMux)
	types := []webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6}
	if cfg.TCP != nil {
		e.tcpMux = webrtc.NewICETCPMux(lf.NewLogger("ice-tcp"), cfg.TCP, 8)
		s.SetICETCPMux(e.tcpMux)
		types = append(types, webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6)
	}
	s.SetNetworkTypes(types)
	s.SetIncludeLoopbackCandidate(cfg.IncludeLoopback)
	// mDNS candidates would be of no use to a server and would send
	// multicast into the authority's network.
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	// Browsers that hide their host candidates behind mDNS names (which
	// we cannot resolve) reach us first as peer-reflexive candidates:
	// accept those at once instead of waiting for better ones.
	s.SetPrflxAcceptanceMinWait(0)
	s.SetICETimeouts(cfg.DisconnectedTimeout, cfg.FailedTimeout, time.Second)
	if len(cfg.PublicIPs) > 0 {
		ips := make([]string, len(cfg.PublicIPs))
		for i, ip := range cfg.PublicIPs {
			ips[i] = ip.String()
		}
		if err := s.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{External: ips,
			AsCandidateType: webrtc.ICECandidateTypeHost}); err != nil {
			return nil, fmt.Errorf("rtc: failed to set the public addresses: %w", err)
		}
	}
	e.setting = s
	return e, nil
}

// Close stops the ICE muxes.
func (e *Engine) Close() error {
	err := e.udpMux.Close()
	if e.tcpMux != nil {
		err = errors.Join(err, e.tcpMux.Close())
	}
	return err
}

// The codecs the server forwards. Publishers and subscribers negotiate
// from this list; a track is forwarded as it arrives (no transcoding), so
// both ends need the same codec: browsers all speak VP8 and Opus.
var videoFeedback = []webrtc.RTCPFeedback{{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"},
	{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: webrtc.TypeRTCPFBTransportCC}}

func codecs() []struct {
	kind  webrtc.RTPCodecType
	codec webrtc.RTPCodecParameters
} {
	type c = struct {
		kind  webrtc.RTPCodecType
		codec webrtc.RTPCodecParameters
	}
	audio, video := webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo
	codec := func(mime string, rate uint32, ch uint16, fmtp string, fb []webrtc.RTCPFeedback, pt webrtc.PayloadType) webrtc.RTPCodecParameters {
		return webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: mime, ClockRate: rate,
			Channels: ch, SDPFmtpLine: fmtp, RTCPFeedback: fb}, PayloadType: pt}
	}
	audioFB := []webrtc.RTCPFeedback{{Type: webrtc.TypeRTCPFBTransportCC}}
	return []c{
		{audio, codec(webrtc.MimeTypeOpus, 48000, 2, "minptime=10;useinbandfec=1;usedtx=1", audioFB, 111)},
		// RED (RFC 2198) carrying Opus: passed through as it comes.
		{audio, codec("audio/red", 48000, 2, "111/111", nil, 63)},
		{video, codec(webrtc.MimeTypeVP8, 90000, 0, "", videoFeedback, 96)},
		{video, codec(webrtc.MimeTypeRTX, 90000, 0, "apt=96", nil, 97)},
		{video, codec(webrtc.MimeTypeH264, 90000, 0,
			"level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f", videoFeedback, 102)},
		{video, codec(webrtc.MimeTypeRTX, 90000, 0, "apt=102", nil, 103)},
		{video, codec(webrtc.MimeTypeH264, 90000, 0,
			"level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f", videoFeedback, 108)},
		{video, codec(webrtc.MimeTypeRTX, 90000, 0, "apt=108", nil, 109)},
	}
}

// sendCodecs are the codecs of a kind the server sends with: all but RTX.
func sendCodecs(kind webrtc.RTPCodecType) []webrtc.RTPCodecParameters {
	var out []webrtc.RTPCodecParameters
	for _, c := range codecs() {
		if c.kind == kind && c.codec.MimeType != webrtc.MimeTypeRTX {
			out = append(out, c.codec)
		}
	}
	return out
}

// The header extensions: mid and rid (simulcast), audio level (active
// speaker), transport-wide sequence numbers (TWCC).
var headerExtensions = []struct {
	uri   string
	kinds []webrtc.RTPCodecType
}{
	{sdp.SDESMidURI, []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo}},
	{sdp.SDESRTPStreamIDURI, []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo}},
	{sdp.SDESRepairRTPStreamIDURI, []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo}},
	{sdp.AudioLevelURI, []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio}},
	{sdp.TransportCCURI, []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo}},
}

// api builds the pion API of one peer connection: its own media engine
// and interceptor registry, because the bandwidth estimator is per peer.
// estimator receives that peer's estimator once the connection exists.
func (e *Engine) api(estimator chan<- cc.BandwidthEstimator) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	for _, c := range codecs() {
		if err := m.RegisterCodec(c.codec, c.kind); err != nil {
			return nil, fmt.Errorf("rtc: failed to register %s: %w", c.codec.MimeType, err)
		}
	}
	for _, h := range headerExtensions {
		for _, k := range h.kinds {
			if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: h.uri}, k); err != nil {
				return nil, fmt.Errorf("rtc: failed to register %s: %w", h.uri, err)
			}
		}
	}
	ir := &interceptor.Registry{}
	// Send-side bandwidth estimation towards this peer (Google congestion
	// control on TWCC feedback), without a pacer: forwarded packets leave
	// as they come, the estimate only picks simulcast layers.
	ccf, err := cc.NewInterceptor(func() (cc.BandwidthEstimator, error) {
		return gcc.NewSendSideBWE(gcc.SendSideBWEInitialBitrate(e.cfg.InitialBitrate),
			gcc.SendSideBWEMinBitrate(e.cfg.MinBitrate), gcc.SendSideBWEMaxBitrate(e.cfg.MaxBitrate),
			gcc.SendSideBWEPacer(gcc.NewNoOpPacer()))
	})
	if err != nil {
		return nil, fmt.Errorf("rtc: failed to build congestion control: %w", err)
	}
	ccf.OnNewPeerConnection(func(_ string, est cc.BandwidthEstimator) {
		select {
		case estimator <- est:
		default:
		}
	})
	ir.Add(ccf)
	if err = webrtc.ConfigureTWCCHeaderExtensionSender(m, ir); err != nil {
		return nil, fmt.Errorf("rtc: failed to configure TWCC sending: %w", err)
	}
	// NACKs towards publishers (pion's generator); NACKs from subscribers
	// are answered by the forwarding from one buffer per published layer
	// (video/sfu), not by pion's responder, which copies every packet into
	// a buffer per subscriber. Then sender and receiver reports, and TWCC
	// feedback for what publishers send.
	gen, err := nack.NewGeneratorInterceptor()
	if err != nil {
		return nil, fmt.Errorf("rtc: failed to configure NACK: %w", err)
	}
	m.RegisterFeedback(webrtc.RTCPFeedback{Type: "nack"}, webrtc.RTPCodecTypeVideo)
	m.RegisterFeedback(webrtc.RTCPFeedback{Type: "nack", Parameter: "pli"}, webrtc.RTPCodecTypeVideo)
	ir.Add(gen)
	if err = webrtc.ConfigureRTCPReports(ir); err != nil {
		return nil, fmt.Errorf("rtc: failed to configure RTCP reports: %w", err)
	}
	if err = webrtc.ConfigureTWCCSender(m, ir); err != nil {
		return nil, fmt.Errorf("rtc: failed to configure TWCC feedback: %w", err)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir),
		webrtc.WithSettingEngine(e.setting)), nil
}

// pionLogs sends pion's logs to zerolog. pion's texts may name addresses
// of participants, so they go in a field and only at debug level and
// below; pion's errors are warnings here, because the connection they
// concern fails on its own and is reported as such.
type pionLogs struct{ log zerolog.Logger }

func (f *pionLogs) NewLogger(scope string) logging.LeveledLogger {
	return &pionLogger{log: f.log.With().Str("pion", scope).Logger()}
}

type pionLogger struct{ log zerolog.Logger }

func (l *pionLogger) at(e *zerolog.Event, msg string) { e.Str("detail", msg).Msg("Message from pion") }

func (l *pionLogger) Trace(msg string)             { l.at(l.log.Trace(), msg) }
func (l *pionLogger) Tracef(f string, args ...any) { l.at(l.log.Trace(), fmt.Sprintf(f, args...)) }
func (l *pionLogger) Debug(msg string)             { l.at(l.log.Trace(), msg) }
func (l *pionLogger) Debugf(f string, args ...any) { l.at(l.log.Trace(), fmt.Sprintf(f, args...)) }
func (l *pionLogger) Info(msg string)              { l.at(l.log.Trace(), msg) }
func (l *pionLogger) Infof(f string, args ...any)  { l.at(l.log.Trace(), fmt.Sprintf(f, args...)) }
func (l *pionLogger) Warn(msg string)              { l.at(l.log.Debug(), msg) }
func (l *pionLogger) Warnf(f string, args ...any)  { l.at(l.log.Debug(), fmt.Sprintf(f, args...)) }
func (l *pionLogger) Error(msg string)             { l.at(l.log.Warn(), msg) }
func (l *pionLogger) Errorf(f string, args ...any) { l.at(l.log.Warn(), fmt.Sprintf(f, args...)) }
