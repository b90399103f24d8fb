package sfu

import (
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the media server's Prometheus metrics. Labels name the kind
// of media, never a call's or a person's identity: per-call figures would
// make each case a time series.
type Metrics struct {
	forwarded    *prometheus.CounterVec
	forwardCost  *prometheus.HistogramVec
	pliSent      prometheus.Counter
	pliReceived  prometheus.Counter
	nackReceived prometheus.Counter
	malformed    prometheus.Counter
	participants prometheus.Gauge
	joinLatency  prometheus.Histogram
	firstFrame   prometheus.Histogram
}

// NewMetrics creates the metrics and registers them on reg (nil: not
// registered, for tests and the load tool).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		forwarded: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rathaus_video_forwarded_packets_total",
			Help: "RTP packets forwarded to subscribers, by kind (audio, video)."}, []string{"kind"}),
		forwardCost: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "rathaus_video_forward_seconds_per_packet",
			Help:    "Time spent forwarding one received packet to all its subscribers, divided by their number.",
			Buckets: []float64{1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 5e-4}}, []string{"kind"}),
		pliSent: prometheus.NewCounter(prometheus.CounterOpts{Name: "rathaus_video_pli_sent_total",
			Help: "Keyframe requests sent to publishers (after throttling)."}),
		pliReceived: prometheus.NewCounter(prometheus.CounterOpts{Name: "rathaus_video_pli_received_total",
			Help: "Keyframe requests (PLI, FIR) received from subscribers."}),
		nackReceived: prometheus.NewCounter(prometheus.CounterOpts{Name: "rathaus_video_nack_received_total",
			Help: "NACKs received from subscribers."}),
		malformed: prometheus.NewCounter(prometheus.CounterOpts{Name: "rathaus_video_malformed_packets_total",
			Help: "RTP or RTCP packets that did not parse."}),
		participants: prometheus.NewGauge(prometheus.GaugeOpts{Name: "rathaus_video_participants",
			Help: "Participants connected to the embedded media server."}),
		joinLatency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "rathaus_video_join_seconds",
			Help:    "From join to a connected peer connection.",
			Buckets: []float64{.1, .25, .5, 1, 1.5, 2, 3, 5, 10}}),
		firstFrame: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "rathaus_video_first_frame_seconds",
			Help:    "From join to the first keyframe forwarded to the participant.",
			Buckets: []float64{.1, .25, .5, 1, 1.5, 2, 3, 5, 10}}),
	}
	if reg != nil {
		reg.MustRegister(m.forwarded, m.forwardCost, m.pliSent, m.pliReceived, m.nackReceived, m.malformed,
			m.participants, m.joinLatency, m.firstFrame)
	}
	return m
}

// metrics holds the labelled children once, so the per-packet path does
// no label lookups.
type metrics struct {
	*Metrics
	fwdAudio, fwdVideo   prometheus.Counter
	costAudio, costVideo prometheus.Observer
}

func (m *Metrics) forRoom() *metrics {
	return &metrics{Metrics: m,
		fwdAudio: m.forwarded.WithLabelValues("audio"), fwdVideo: m.forwarded.WithLabelValues("video"),
		costAudio: m.forwardCost.WithLabelValues("audio"), costVideo: m.forwardCost.WithLabelValues("video")}
}

func (m *metrics) observeForward(kind webrtc.RTPCodecType, n int, took time.Duration) {
	if n == 0 {
		return
	}
	fwd, cost := m.fwdVideo, m.costVideo
	if kind == webrtc.RTPCodecTypeAudio {
		fwd, cost = m.fwdAudio, m.costAudio
	}
	fwd.Add(float64(n))
	cost.Observe(took.Seconds() / float64(n))
}
