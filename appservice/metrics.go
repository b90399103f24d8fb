package appservice

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the appservice's Prometheus instruments.
type Metrics struct {
	TransactionsReceived *prometheus.CounterVec
	EventsStored         prometheus.Counter
	EventsProcessed      prometheus.Counter
	EventsSkipped        prometheus.Counter
	EventsFailed         prometheus.Counter
	EventsParked         prometheus.Counter
	InboxParked          prometheus.Gauge

	// dispatcher answers the backlog gauges once NewDispatcher ran.
	dispatcher atomic.Pointer[Dispatcher]
}

// NewMetrics creates the instruments and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		TransactionsReceived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rathaus_appservice_transactions_received_total",
			Help: "Transactions pushed by the homeserver, by outcome (stored, duplicate, deferred: refused with a retryable error because the inbox is full, rejected).",
		}, []string{"outcome"}),
		EventsStored: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rathaus_appservice_events_stored_total",
			Help: "New room events written to the inbox.",
		}),
		EventsProcessed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rathaus_appservice_events_processed_total",
			Help: "Inbox events done: handled successfully or needing no handler (see events_skipped_total).",
		}),
		EventsSkipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rathaus_appservice_events_skipped_total",
			Help: "Inbox events no capability handles (e.g. in rooms rathaus does not manage), marked done without a handler run.",
		}),
		EventsFailed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rathaus_appservice_events_failed_total",
			Help: "Failed handler attempts (each retry counts).",
		}),
		EventsParked: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rathaus_appservice_events_parked_total",
			Help: "Inbox events given up on after their last retry.",
		}),
		InboxParked: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "rathaus_appservice_inbox_parked",
			Help: "Events given up on and kept for an operator (removed after the retention period).",
		}),
	}
	pending := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "rathaus_appservice_inbox_pending",
		Help: "Events stored but not yet handled (read from the database every second, counted in between); appservice.max_pending_events bounds it.",
	}, func() float64 {
		if d := m.dispatcher.Load(); d != nil {
			return float64(d.Pending())
		}
		return 0
	})
	oldest := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "rathaus_appservice_inbox_oldest_pending_age_seconds",
		Help: "Age of the oldest pending inbox event (0 when none is pending). Computed when scraped, so it keeps growing while nothing moves: alert on it.",
	}, func() float64 {
		if d := m.dispatcher.Load(); d != nil {
			return d.OldestPendingAge().Seconds()
		}
		return 0
	})
	if reg != nil {
		reg.MustRegister(m.TransactionsReceived, m.EventsStored, m.EventsProcessed, m.EventsSkipped,
			m.EventsFailed, m.EventsParked, m.InboxParked, pending, oldest)
	}
	return m
}

// observe makes d answer the backlog gauges.
func (m *Metrics) observe(d *Dispatcher) { m.dispatcher.Store(d) }
