package tickets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/outbox"
	"github.com/rathaus-de/rathaus/outbox/webhook"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/store"
)

// Event types of the status webhook (docs/ozg.md, "Status webhooks").
const (
	EventOpened          = "case.opened"
	EventClaimed         = "case.claimed"
	EventAwaitingCitizen = "case.awaiting_citizen"
	EventCitizenReplied  = "case.citizen_replied"
	EventResolved        = "case.resolved"
	EventClosed          = "case.closed"
	EventReopened        = "case.reopened"
	EventTransferred     = "case.transferred"
	EventAbandoned       = "case.abandoned"
)

// eventByAction maps the case actions stored with a status change
// (cases.CaseAction, and "open" for the opening) to event types.
var eventByAction = map[string]string{
	"open":          EventOpened,
	"claim":         EventClaimed,
	"await_citizen": EventAwaitingCitizen,
	"citizen_reply": EventCitizenReplied,
	"resolve":       EventResolved,
	"close":         EventClosed,
	"reopen":        EventReopened,
	"transfer":      EventTransferred, // stored as transfer:<department>
	"hand_over":     EventTransferred,
	"abandon":       EventAbandoned,
}

// EventType is the webhook event type of a status change: by its action,
// or "case.<new status>" for an action this version does not know.
func EventType(j store.TicketStatusJob) string {
	action, _, _ := strings.Cut(j.Action, ":")
	if t, ok := eventByAction[action]; ok {
		return t
	}
	return "case." + string(j.To)
}

// StatusEvent is the JSON body of a status webhook. It carries ids,
// statuses and times only: never a message, never form contents.
type StatusEvent struct {
	// Type is the event type, e.g. case.claimed.
	Type string `json:"type"`
	// DeliveryID is also the Rathaus-Webhook-Id header: receivers
	// de-duplicate by it.
	DeliveryID string `json:"delivery_id"`
	// OccurredAt is when the status changed (RFC 3339, UTC, milliseconds).
	OccurredAt string      `json:"occurred_at"`
	Case       EventCase   `json:"case"`
	Ticket     EventTicket `json:"ticket"`
}

// EventCase is the case part of a StatusEvent.
type EventCase struct {
	ID protocol.CaseID `json:"id"`
	// Reference is the case's Aktenzeichen.
	Reference string              `json:"reference"`
	Status    protocol.CaseStatus `json:"status"`
	// PreviousStatus is "" for case.opened.
	PreviousStatus protocol.CaseStatus `json:"previous_status,omitempty"`
	// Seq counts the case's status changes from 1 (the opening); a
	// receiver that sees them out of order keeps the highest.
	Seq int `json:"seq"`
}

// EventTicket is the ticket part of a StatusEvent: the ids the online
// service knows the case by.
type EventTicket struct {
	ID         protocol.TicketID `json:"id"`
	ServiceID  string            `json:"service_id"`
	Submission string            `json:"submission_id,omitempty"`
}

// NewStatusEvent is the webhook body of a status change.
func NewStatusEvent(deliveryID string, j store.TicketStatusJob) StatusEvent {
	return StatusEvent{
		Type:       EventType(j),
		DeliveryID: deliveryID,
		OccurredAt: time.UnixMilli(j.At).UTC().Format("2006-01-02T15:04:05.000Z"),
		Case:       EventCase{ID: j.CaseID, Reference: j.Reference, Status: j.To, PreviousStatus: j.From, Seq: j.Seq},
		Ticket:     EventTicket{ID: j.TicketID, ServiceID: j.Service, Submission: j.Submission},
	}
}

// WebhookOptions configure NewStatusWebhooks.
type WebhookOptions struct {
	// Config returns the running config; every attempt reads the
	// service's webhook from it, so a changed URL or secret applies to
	// the next attempt and no secret is stored with a job.
	Config func() *config.Config
	Log    zerolog.Logger
	// Timeout bounds one delivery (default outbox.DefaultTimeout).
	Timeout time.Duration
}

// StatusWebhooks is the outbox handler of store.JobKindTicketStatus jobs:
// it sends the status change to the service's webhook.
type StatusWebhooks struct {
	config func() *config.Config
	log    zerolog.Logger
	// public refuses private targets; private is for webhooks with
	// allow_private.
	public, private *webhook.Client
}

var _ outbox.Handler = (*StatusWebhooks)(nil)

// NewStatusWebhooks makes the handler.
func NewStatusWebhooks(opts WebhookOptions) (*StatusWebhooks, error) {
	if opts.Config == nil {
		return nil, errors.New("tickets: status webhooks need the config")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = outbox.DefaultTimeout
	}
	return &StatusWebhooks{config: opts.Config, log: opts.Log,
		public: webhook.NewClient(opts.Timeout, false), private: webhook.NewClient(opts.Timeout, true)}, nil
}

// Run makes one attempt of a status webhook. A service without a webhook
// finishes the job unsent; a service no longer in the config, or a
// payload that is not a status change, parks it.
func (h *StatusWebhooks) Run(ctx context.Context, job store.Job) error {
	var j store.TicketStatusJob
	if err := json.Unmarshal(job.Payload, &j); err != nil || j.CaseID == "" || j.Service == "" || j.To == "" {
		return fmt.Errorf("%w: the job's payload is not a ticket status change", outbox.ErrPermanent)
	}
	svc := h.config().OZGService(j.Service)
	if svc == nil {
		return fmt.Errorf("%w: online service %q is no longer in ozg.services; add it again and requeue (rathaus parked -requeue-jobs), or leave the job parked",
			outbox.ErrPermanent, j.Service)
	}
	w := svc.Webhook
	if !w.Enabled() {
		h.log.Debug().Str("service_id", j.Service).Str("case_id", string(j.CaseID)).Str("delivery_id", job.DeliveryID).
			Msg("The online service has no webhook; status change not sent")
		return nil
	}
	body, err := json.Marshal(NewStatusEvent(job.DeliveryID, j))
	if err != nil {
		return fmt.Errorf("%w: failed to encode the status event: %w", outbox.ErrPermanent, err)
	}
	client := h.public
	if w.AllowPrivate {
		client = h.private
	}
	secrets := w.Secrets()
	d := webhook.Delivery{URL: w.URL, ID: job.DeliveryID, Secret: secrets[0], Body: body}
	if len(secrets) > 1 {
		d.PreviousSecret = secrets[1]
	}
	if err = client.Send(ctx, d, time.Now()); errors.Is(err, webhook.ErrPermanent) {
		return fmt.Errorf("%w: %w", outbox.ErrPermanent, err)
	}
	return err
}
