package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rathaus-de/rathaus/outbox/webhook"
	"github.com/rathaus-de/rathaus/store"
)

// KindWebhook is the job kind of a webhook.
const KindWebhook = "webhook"

// WebhookPayload is what a webhook job stores: the target's name (looked
// up in the live config at every attempt, so a changed URL or a rotated
// secret applies at once and no secret is stored) and the JSON to send.
type WebhookPayload struct {
	Target string          `json:"target"`
	Body   json.RawMessage `json:"body"`
}

// WebhookTargets resolves a target's name to where and how to send.
type WebhookTargets interface {
	WebhookTarget(name string) (url string, secret []byte, ok bool)
}

// Enqueuer stores jobs (store.Store).
type Enqueuer interface {
	EnqueueJob(ctx context.Context, kind, deliveryID string, payload []byte) (bool, error)
}

// EnqueueWebhook stores a webhook to target with body (marshalled to
// JSON) under deliveryID, which must follow from the cause (the same
// cause, the same id: a second enqueue stores nothing). It reports whether
// the job is new.
func EnqueueWebhook(ctx context.Context, e Enqueuer, target, deliveryID string, body any) (bool, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return false, fmt.Errorf("outbox: webhook body: %w", err)
	}
	payload, err := json.Marshal(WebhookPayload{Target: target, Body: raw})
	if err != nil {
		return false, fmt.Errorf("outbox: webhook payload: %w", err)
	}
	return e.EnqueueJob(ctx, KindWebhook, deliveryID, payload)
}

// WebhookHandler sends webhook jobs.
type WebhookHandler struct {
	Client  *webhook.Client
	Targets WebhookTargets
}

// Run sends one attempt of a webhook job.
func (h WebhookHandler) Run(ctx context.Context, job store.Job) error {
	var p WebhookPayload
	if err := json.Unmarshal(job.Payload, &p); err != nil || p.Target == "" || len(p.Body) == 0 {
		return fmt.Errorf("%w: the job's payload is not a webhook", ErrPermanent)
	}
	url, secret, ok := h.Targets.WebhookTarget(p.Target)
	if !ok {
		return fmt.Errorf("%w: no webhook target %q in the config (any more)", ErrPermanent, p.Target)
	}
	err := h.Client.Send(ctx, webhook.Delivery{URL: url, ID: job.DeliveryID, Secret: secret, Body: p.Body}, time.Now())
	if errors.Is(err, webhook.ErrPermanent) {
		return fmt.Errorf("%w: %w", ErrPermanent, err)
	}
	return err
}
