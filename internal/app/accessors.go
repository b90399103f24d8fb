package app

import (
	"net/http"

	mauas "maunium.net/go/mautrix/appservice"

	"github.com/rathaus-de/rathaus/bot"
	"github.com/rathaus-de/rathaus/cases"
	"github.com/rathaus-de/rathaus/departments"
	"github.com/rathaus-de/rathaus/store"
	"github.com/rathaus-de/rathaus/video"
	"github.com/rathaus-de/rathaus/video/calls"
	"github.com/rathaus-de/rathaus/widgets/guestchat"
)

// What a running rathaus is made of, for tests and operator tooling. Each
// is nil before Start.

// Handler returns the appservice HTTP handler.
func (a *App) Handler() http.Handler { return a.server }

// Store returns the database.
func (a *App) Store() *store.Store { return a.store }

// AppService returns the mautrix appservice that acts as the bot and
// ghosts.
func (a *App) AppService() *mauas.AppService { return a.as }

// Bot returns the event router and command registry.
func (a *App) Bot() *bot.Router { return a.router }

// Departments returns the departments capability.
func (a *App) Departments() *departments.Service { return a.departments }

// Cases returns the cases capability.
func (a *App) Cases() *cases.Service { return a.cases }

// GuestChat returns the guest chat's handler, or nil if it is disabled.
func (a *App) GuestChat() *guestchat.Server { return a.guest }

// Calls returns the video call service, or nil if video is off.
func (a *App) Calls() *calls.Service { return a.calls }

// VideoBackend returns the embedded media server, or nil if video is off.
func (a *App) VideoBackend() video.Backend { return a.videoBackend }
