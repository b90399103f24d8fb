package livekit

import "github.com/prometheus/client_golang/prometheus"

// Metrics. The media figures (packets, loss, bitrates per track) are
// LiveKit's own, on its Prometheus port; rathaus exports what it knows
// from LiveKit's webhooks, under the names the embedded server uses for
// the same: who is in which call. Labels are the call id (a random case
// id), never a name or a Matrix id.

// collector is the Backend's prometheus.Collector.
type collector struct {
	b                  *Backend
	participants, call *prometheus.Desc
}

func newCollector(b *Backend) *collector {
	return &collector{b: b,
		participants: prometheus.NewDesc("rathaus_video_participants",
			"Participants in rathaus's calls on LiveKit, as its webhooks report them.", nil, nil),
		call: prometheus.NewDesc("rathaus_video_call_participants",
			"Participants connected to the call.", []string{"call"}, nil),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.participants
	ch <- c.call
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	c.b.mu.Lock()
	per := make(map[string]int, len(c.b.calls))
	total := 0
	for id, call := range c.b.calls {
		per[string(id)] = len(call.present)
		total += len(call.present)
	}
	c.b.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(c.participants, prometheus.GaugeValue, float64(total))
	for id, n := range per {
		ch <- prometheus.MustNewConstMetric(c.call, prometheus.GaugeValue, float64(n), id)
	}
}
