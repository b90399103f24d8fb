package app

import (
	"context"
	"net/http"
	"time"

	"github.com/rathaus-de/rathaus/ozg"
	"github.com/rathaus-de/rathaus/store"
)

// helpRequests gives the ozg package's intake API the store's help
// requests and link key.
type helpRequests struct{ *store.Store }

var (
	_ ozg.HelpRequestStore = helpRequests{}
	_ ozg.IntakeKeyStore   = (*store.Store)(nil)
)

func (h helpRequests) CreateHelpRequest(ctx context.Context, r ozg.HelpRequest, notBefore time.Time) (ozg.HelpRequest, bool, error) {
	got, created, err := h.Store.CreateHelpRequest(ctx, store.HelpRequest(r), notBefore)
	if err != nil {
		return ozg.HelpRequest{}, false, err
	}
	return ozg.HelpRequest(*got), created, nil
}

// addIntakeRoutes puts the OZG intake API (POST /api/ozg/v1/help-requests
// and its OpenAPI document) on the public listener, beside the /hilfe
// page its links open; without the guest chat there is nothing to link
// to. Paths under /api/ozg/v1/ that are no route answer in JSON.
func (a *App) addIntakeRoutes() error {
	if !a.start.GuestChat.Enabled {
		return nil
	}
	intake, err := ozg.NewIntake(ozg.IntakeOptions{Config: a.config, Store: helpRequests{a.store},
		Log: a.log.With().Str("component", "ozg_intake").Logger()})
	if err != nil {
		return err
	}
	for _, r := range intake.Routes() {
		a.public = append(a.public, publicRoute{pattern: r.Pattern(), handler: r.Handler})
	}
	a.public = append(a.public, publicRoute{pattern: ozg.APIPrefix, handler: http.HandlerFunc(ozg.NotFound)})
	return nil
}
