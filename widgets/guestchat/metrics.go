package guestchat

import "github.com/prometheus/client_golang/prometheus"

// The limits a refusal counts under (label "limit" of
// rathaus_guestchat_refused_total): a fixed set, never a client's address
// or session.
const (
	limitSessionsPerAddress = "sessions_per_address"
	limitSessionsGlobal     = "sessions_global"
	limitStreamsPerAddress  = "streams_per_address"
	limitStreamsTotal       = "streams_total"
)

var refusalLimits = []string{limitSessionsPerAddress, limitSessionsGlobal, limitStreamsPerAddress, limitStreamsTotal}

// metrics are the guest chat's Prometheus instruments.
type metrics struct {
	sessionsCreated prometheus.Counter
	refused         *prometheus.CounterVec
	streamsReplaced prometheus.Counter
}

// newMetrics creates the instruments and registers them with reg, if it is
// not nil; openStreams answers the open streams gauge when scraped.
func newMetrics(reg prometheus.Registerer, openStreams func() int) *metrics {
	m := &metrics{
		sessionsCreated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rathaus_guestchat_sessions_created_total",
			Help: "Browser sessions created (each a database row until it expires).",
		}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rathaus_guestchat_refused_total",
			Help: "Requests refused with 429 by a bound on sessions or live streams, by limit " +
				"(sessions_per_address, sessions_global, streams_per_address, streams_total).",
		}, []string{"limit"}),
		streamsReplaced: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rathaus_guestchat_streams_replaced_total",
			Help: "Live streams closed because a newer stream of the same session went over guest_chat.streams.per_session (a reload, or too many tabs).",
		}),
	}
	for _, l := range refusalLimits {
		m.refused.WithLabelValues(l) // every limit shows, at 0, before its first refusal
	}
	open := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "rathaus_guestchat_streams_open",
		Help: "Live streams open now; guest_chat.streams.total bounds it.",
	}, func() float64 { return float64(openStreams()) })
	if reg != nil {
		reg.MustRegister(m.sessionsCreated, m.refused, m.streamsReplaced, open)
	}
	return m
}
