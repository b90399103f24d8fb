package sfu

import (
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the media server's Prometheus metrics over all calls,
// labelled by the kind of media only, so they keep their history across
// calls. The per-call figures come from CallCollector.
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

// CallCollector exports per-call, per-track and per-participant figures
// of the rooms that exist at the moment of a scrape: packets per second,
// loss, round-trip time, NACK and PLI counts, the forwarding time per
// packet, join latency and time to first frame. A call's series end with
// the call, so the number of series stays bounded by the calls running.
// Labels are the call id (a random case id), the track id ("video-1") and
// the participant's random id and role: never a name or a Matrix id.
type CallCollector struct {
	rooms func() []*Room

	participants, recvPackets, lostPackets, packetRate, bitrate, lossRatio, forwarded, forwardTime,
	plisSent, subPackets, subNACKs, subResent, subPLIs, subLoss, rtt, join, firstFrame *prometheus.Desc
}

// NewCallCollector collects the rooms rooms returns at each scrape.
func NewCallCollector(rooms func() []*Room) *CallCollector {
	track := []string{"call", "track", "kind"}
	layer := []string{"call", "track", "kind", "layer"}
	sub := []string{"call", "track", "kind", "participant"}
	part := []string{"call", "participant", "role"}
	d := func(name, help string, labels []string) *prometheus.Desc {
		return prometheus.NewDesc("rathaus_video_call_"+name, help, labels, nil)
	}
	return &CallCollector{rooms: rooms,
		participants: d("participants", "Participants connected to the call.", []string{"call"}),
		recvPackets:  d("received_packets_total", "RTP packets received from the publisher, per simulcast layer.", layer),
		lostPackets:  d("lost_packets_total", "RTP packets from the publisher that stayed lost after retransmission.", layer),
		packetRate:   d("received_packets_per_second", "Packets per second received over the last second.", layer),
		bitrate:      d("received_bits_per_second", "Bits per second received over the last second.", layer),
		lossRatio:    d("received_loss_ratio", "Share of the publisher's packets lost over the last second.", layer),
		forwarded:    d("forwarded_packets_total", "RTP packets of the track written to subscribers.", track),
		forwardTime: d("forward_seconds_total",
			"Time spent forwarding the track's packets; divided by forwarded_packets_total it is the cost per forwarded packet.", track),
		plisSent:   d("pli_sent_total", "Keyframe requests sent to the track's publisher.", track),
		subPackets: d("subscriber_packets_total", "Packets of the track sent to one subscriber.", sub),
		subNACKs:   d("subscriber_nack_total", "Packets of the track the subscriber asked to have resent.", sub),
		subResent:  d("subscriber_resent_total", "Packets of the track sent again to the subscriber on its NACKs.", sub),
		subPLIs:    d("subscriber_pli_total", "Keyframe requests of the subscriber for the track.", sub),
		subLoss:    d("subscriber_loss_ratio", "Share of the track's packets the subscriber reported lost in its last report.", sub),
		rtt:        d("rtt_seconds", "Round-trip time to the participant from its latest RTCP reports.", part),
		join:       d("join_seconds", "From the participant's join to a connected peer connection.", part),
		firstFrame: d("first_frame_seconds", "From the participant's join to the first video packet forwarded to it.", part),
	}
}

// Describe implements prometheus.Collector.
func (c *CallCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.participants, c.recvPackets, c.lostPackets, c.packetRate, c.bitrate,
		c.lossRatio, c.forwarded, c.forwardTime, c.plisSent, c.subPackets, c.subNACKs, c.subResent, c.subPLIs, c.subLoss,
		c.rtt, c.join, c.firstFrame} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *CallCollector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, r := range c.rooms() {
		parts := r.Participants()
		gauge(c.participants, float64(len(parts)), r.ID)
		for _, p := range parts {
			s := p.Stats()
			if s.JoinLatency > 0 {
				gauge(c.join, s.JoinLatency.Seconds(), r.ID, s.ID, s.Role)
			}
			if s.FirstFrame > 0 {
				gauge(c.firstFrame, s.FirstFrame.Seconds(), r.ID, s.ID, s.Role)
			}
			if s.RTT > 0 {
				gauge(c.rtt, s.RTT.Seconds(), r.ID, s.ID, s.Role)
			}
			for _, t := range s.Published {
				counter(c.forwarded, float64(t.Forwarded), r.ID, t.Track, t.Kind)
				counter(c.forwardTime, t.ForwardTime.Seconds(), r.ID, t.Track, t.Kind)
				counter(c.plisSent, float64(t.PLIsSent), r.ID, t.Track, t.Kind)
				for _, l := range t.Layers {
					counter(c.recvPackets, float64(l.Packets), r.ID, t.Track, t.Kind, l.RID)
					counter(c.lostPackets, float64(l.Lost), r.ID, t.Track, t.Kind, l.RID)
					gauge(c.packetRate, l.PacketRate, r.ID, t.Track, t.Kind, l.RID)
					gauge(c.bitrate, float64(l.Bitrate), r.ID, t.Track, t.Kind, l.RID)
					gauge(c.lossRatio, l.Loss, r.ID, t.Track, t.Kind, l.RID)
				}
			}
			for _, sub := range s.Received {
				counter(c.subPackets, float64(sub.Packets), r.ID, sub.Track, sub.Kind, s.ID)
				counter(c.subNACKs, float64(sub.NACKs), r.ID, sub.Track, sub.Kind, s.ID)
				counter(c.subResent, float64(sub.Resent), r.ID, sub.Track, sub.Kind, s.ID)
				counter(c.subPLIs, float64(sub.PLIs), r.ID, sub.Track, sub.Kind, s.ID)
				gauge(c.subLoss, sub.FractionLost, r.ID, sub.Track, sub.Kind, s.ID)
			}
		}
	}
}
