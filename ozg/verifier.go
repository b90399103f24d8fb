// Package ozg connects rathaus to the OZG online services: it verifies the
// signed context ("Hilfe" link) with which a service hands a stuck
// citizen over, and turns it into the ticket of the case
// (docs/ozg.md). It knows neither the guest chat nor the cases: the guest
// chat asks it through an interface of its own, wired in internal/app.
package ozg

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/protocol"
)

// JTIStore remembers the jtis of used contexts. *store.Store implements it.
type JTIStore interface {
	// BindContextJTI is called once a context has verified: it binds the
	// jti to binding on first use and reports whether it is bound to
	// binding (false: another session used it first).
	BindContextJTI(ctx context.Context, serviceID, jti, binding string, expiresAt time.Time) (bool, error)
	// PruneContextJTIs is called now and then to forget jtis of contexts
	// that expired before `before`.
	PruneContextJTIs(ctx context.Context, before time.Time) error
}

// Options configure NewVerifier.
type Options struct {
	// Config returns the running config; ozg.services is read per call,
	// so a reload adds or removes services and keys at once.
	Config func() *config.Config
	JTIs   JTIStore
	// IntakeKeys holds the key of the contexts rathaus signs for the
	// intake API's links (kid IntakeKeyID); without it such contexts are
	// refused as of an unknown service.
	IntakeKeys IntakeKeyStore
	// Now is the clock; time.Now if nil.
	Now func() time.Time
}

// Verifier verifies hand-over contexts.
type Verifier struct {
	opts   Options
	intake *intakeKey

	mu         sync.Mutex
	lastPruned time.Time
}

// ErrMissingOption is returned by NewVerifier without Config or JTIs.
var ErrMissingOption = errors.New("ozg: missing option")

// NewVerifier checks the options.
func NewVerifier(opts Options) (*Verifier, error) {
	if opts.Config == nil || opts.JTIs == nil {
		return nil, fmt.Errorf("%w: Config and JTIs", ErrMissingOption)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	v := &Verifier{opts: opts}
	if opts.IntakeKeys != nil {
		v.intake = &intakeKey{store: opts.IntakeKeys}
	}
	return v, nil
}

// Request is a context to verify.
type Request struct {
	// Token is the compact JWS from the link's fragment (#ctx=).
	Token string
	// Binding identifies the browser session that shows the context (the
	// guest session's token hash); the context's jti is bound to it on
	// first use, so the same session may verify it again (a reload) and
	// no other may.
	Binding string
	// Origin is the origin of the page that opened the hand-over, as the
	// browser reported it (document.referrer), or "" if it sent none.
	// A non-empty origin must be one of the service's.
	Origin string
}

// HandOver is a verified context.
type HandOver struct {
	// ServiceName is the service's name from the config.
	ServiceName string
	Claims      Claims
}

// Verify checks a context: the header's kid names a configured service,
// alg is that service's key type, the signature verifies, the claims have
// their forms and lengths, the context is within its lifetime, the page
// came from one of the service's origins, and its jti is not used by
// another session. Only then is anything stored (the jti). A refusal is
// logged on ctx's logger with the service id and the reason, never with
// a claim value.
func (v *Verifier) Verify(ctx context.Context, req Request) (*HandOver, error) {
	h, serviceID, err := v.verify(ctx, req)
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Str("ozg_service", serviceID).Msg("Refused a hand-over context")
		return nil, err
	}
	zerolog.Ctx(ctx).Info().Str("ozg_service", serviceID).Str("jti", h.Claims.JTI).Msg("Verified a hand-over context")
	return h, nil
}

func (v *Verifier) verify(ctx context.Context, req Request) (*HandOver, string, error) {
	if req.Binding == "" {
		return nil, "", fmt.Errorf("%w: no binding", ErrMissingOption)
	}
	j, err := parseJWS(req.Token)
	if err != nil {
		return nil, "", err
	}
	switch j.header.Alg {
	case config.AlgEdDSA, config.AlgES256, config.AlgHS256:
	default:
		// "none" and everything else, before a key is even looked up.
		return nil, "", fmt.Errorf("%w: alg %q", ErrAlgorithm, j.header.Alg)
	}
	var (
		svc *config.OZGServiceConfig
		c   *Claims
	)
	if j.header.Kid == IntakeKeyID {
		svc, c, err = v.verifyIntake(ctx, j)
	} else {
		svc, c, err = v.verifyService(j)
	}
	if err != nil {
		serviceID := ""
		if svc != nil {
			serviceID = svc.ID
		}
		return nil, serviceID, err
	}
	serviceID := svc.ID
	now := v.opts.Now()
	switch {
	case c.IssuedAt.After(now.Add(ClockSkew)):
		return nil, serviceID, fmt.Errorf("%w: issued in the future (clocks apart?)", ErrExpired)
	case !now.Before(c.Expires.Add(ClockSkew)):
		return nil, serviceID, fmt.Errorf("%w: exp has passed", ErrExpired)
	}
	if req.Origin != "" && !slices.Contains(svc.Origins, req.Origin) {
		return nil, serviceID, fmt.Errorf("%w: not one of the service's origins", ErrOrigin)
	}
	v.prune(ctx, now)
	bound, err := v.opts.JTIs.BindContextJTI(ctx, svc.ID, c.JTI, req.Binding, c.Expires.Add(ClockSkew))
	if err != nil {
		return nil, serviceID, err
	} else if !bound {
		return nil, serviceID, ErrReplayed
	}
	return &HandOver{ServiceName: svc.Name, Claims: *c}, serviceID, nil
}

// verifyService verifies a context that a service signed: the kid names
// the service, whose keys verify it.
func (v *Verifier) verifyService(j *jws) (*config.OZGServiceConfig, *Claims, error) {
	svc := v.opts.Config().OZGService(j.header.Kid)
	if svc == nil {
		// The kid is not logged: it is whatever the link carried.
		return nil, nil, fmt.Errorf("%w: kid names no configured service", ErrUnknownService)
	}
	if err := verifyWithKeys(j, svc.Keys()); err != nil {
		return svc, nil, err
	}
	c, err := parseClaims(j.claims)
	if err != nil {
		return svc, nil, err
	}
	if c.ServiceID != svc.ID {
		return svc, nil, fmt.Errorf("%w: svc.id is not the header's kid", ErrMalformed)
	}
	return svc, c, nil
}

// verifyIntake verifies a context that rathaus signed for an intake link:
// rathaus's key verifies it, and its svc.id names the service, which must
// still be configured.
func (v *Verifier) verifyIntake(ctx context.Context, j *jws) (*config.OZGServiceConfig, *Claims, error) {
	if v.intake == nil {
		return nil, nil, fmt.Errorf("%w: intake links are not enabled", ErrUnknownService)
	}
	if j.header.Alg != config.AlgHS256 {
		return nil, nil, fmt.Errorf("%w: alg %q for an intake link", ErrAlgorithm, j.header.Alg)
	}
	key, err := v.intake.get(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err = j.verify(config.ContextKey{Alg: config.AlgHS256, HMAC: key}); err != nil {
		return nil, nil, err
	}
	c, err := parseClaims(j.claims)
	if err != nil {
		return nil, nil, err
	}
	svc := v.opts.Config().OZGService(c.ServiceID)
	if svc == nil {
		return nil, nil, fmt.Errorf("%w: the intake link's service is no longer configured", ErrUnknownService)
	}
	return svc, c, nil
}

// verifyWithKeys tries the service's keys (current, then previous) that
// have the header's alg.
func verifyWithKeys(j *jws, keys []config.ContextKey) error {
	err := fmt.Errorf("%w: alg %q is not the type of the service's key", ErrAlgorithm, j.header.Alg)
	for _, k := range keys {
		if k.Alg != j.header.Alg {
			continue
		}
		if err = j.verify(k); err == nil {
			return nil
		}
	}
	return err
}

// prune forgets expired jtis at most once a minute.
func (v *Verifier) prune(ctx context.Context, now time.Time) {
	v.mu.Lock()
	due := now.Sub(v.lastPruned) >= time.Minute
	if due {
		v.lastPruned = now
	}
	v.mu.Unlock()
	if due {
		if err := v.opts.JTIs.PruneContextJTIs(ctx, now.Add(-ClockSkew)); err != nil {
			zerolog.Ctx(ctx).Warn().Err(err).Msg("Failed to prune used hand-over contexts")
		}
	}
}

// TicketID is the ticket id of a verified hand-over: the service id and
// the context's jti, so every try to open the case names the same ticket.
func (h *HandOver) TicketID() protocol.TicketID {
	return protocol.TicketID(h.Claims.ServiceID + "." + h.Claims.JTI)
}

// Ticket is the de.rathaus.ticket content of the hand-over.
func (h *HandOver) Ticket() protocol.TicketContent {
	c := h.Claims
	return protocol.TicketContent{ID: h.TicketID(),
		Service: protocol.TicketService{ID: c.ServiceID, Name: h.ServiceName, Version: c.ServiceVersion},
		Leika:   c.Leika, ARS: c.ARS, Step: c.Step, ErrorCode: c.Err, Trust: c.Trust, Lang: c.Lang,
		FITConnect: c.FITConnect, Status: protocol.TicketOpen, Verified: true, IssuedAt: c.IssuedAt.UnixMilli()}
}
