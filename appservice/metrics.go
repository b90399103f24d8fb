package appservice

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the appservice's Prometheus instruments.
type Metrics struct {
	TransactionsReceived *prometheus.CounterVec
	EventsStored         prometheus.Counter
	EventsProcessed      prometheus.Counter
	EventsFailed         prometheus.Counter
	EventsParked         prometheus.Counter
	InboxPending         prometheus.Gauge
	InboxParked          prometheus.Gauge
	InboxLag             prometheus.Gauge
}

// NewMetrics creates the instruments and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		TransactionsReceived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rathaus_appservice_transactions_received_total",
			Help: "Transactions pushed by the homeserver, by outcome (stored, duplicate, rejected).",
		}, []string{"outcome"}),
		EventsStored: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rathaus_appservice_events_stored_total",
			Help: "New room events written to the inbox.",
		}),
		EventsProcessed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rathaus_appservice_events_processed_total",
			Help: "Inbox events handled successfully.",
		}),
		EventsFailed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rathaus_appservice_events_failed_total",
			Help: "Failed handler attempts (each retry counts).",
		}),
		EventsParked: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rathaus_appservice_events_parked_total",
			Help: "Inbox events given up on after their last retry.",
		}),
		InboxPending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "rathaus_appservice_inbox_pending",
			Help: "Events stored but not yet handled.",
		}),
		InboxParked: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "rathaus_appservice_inbox_parked",
			Help: "Events given up on and kept for an operator (removed after the retention period).",
		}),
		InboxLag: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "rathaus_appservice_inbox_lag_seconds",
			Help: "Age of the oldest pending inbox event (0 when the inbox is empty).",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.TransactionsReceived, m.EventsStored, m.EventsProcessed,
			m.EventsFailed, m.EventsParked, m.InboxPending, m.InboxParked, m.InboxLag)
	}
	return m
}
