package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/rathaus-de/rathaus/ozg"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/store"
	"github.com/rathaus-de/rathaus/widgets/guestchat"
)

// handOvers gives the guest chat the ozg package's verification of
// hand-over contexts, with ozg's refusals as the guest chat's.
type handOvers struct{ v *ozg.Verifier }

var (
	_ guestchat.HandOvers = handOvers{}
	_ ozg.JTIStore        = (*store.Store)(nil)
)

// newHandOvers builds the verifier on the live config and the store,
// which also holds the key of the intake API's links.
func (a *App) newHandOvers() (handOvers, error) {
	v, err := ozg.NewVerifier(ozg.Options{Config: a.config, JTIs: a.store, IntakeKeys: a.store})
	return handOvers{v}, err
}

func (h handOvers) VerifyHandOver(ctx context.Context, token, binding, origin string) (*protocol.TicketContent, error) {
	ho, err := h.v.Verify(ctx, ozg.Request{Token: token, Binding: binding, Origin: origin})
	switch {
	case err == nil:
		t := ho.Ticket()
		return &t, nil
	case errors.Is(err, ozg.ErrExpired):
		return nil, fmt.Errorf("%w: %w", guestchat.ErrHandOverExpired, err)
	case errors.Is(err, ozg.ErrReplayed):
		return nil, fmt.Errorf("%w: %w", guestchat.ErrHandOverReplayed, err)
	case errors.Is(err, ozg.ErrUnknownService):
		return nil, fmt.Errorf("%w: %w", guestchat.ErrHandOverUnknownService, err)
	case errors.Is(err, ozg.ErrMalformed), errors.Is(err, ozg.ErrAlgorithm), errors.Is(err, ozg.ErrSignature),
		errors.Is(err, ozg.ErrOrigin):
		return nil, fmt.Errorf("%w: %w", guestchat.ErrHandOverInvalid, err)
	}
	return nil, err
}
