package app

import (
	"github.com/rathaus-de/rathaus"
	"github.com/rathaus-de/rathaus/appservice/openid"
	"github.com/rathaus-de/rathaus/httpapi"
	"github.com/rathaus-de/rathaus/widgets/ticket"
)

// addTicketWidget serves the OZG ticket widget on the public listener
// (widgets.ticket, which needs guest_chat): its sign-in checks OpenID
// tokens at the user's homeserver (widgets.openid bounds which addresses
// may be asked) and the bot's view of the case room; its actions are the
// tickets capability's, as the commands are.
func (a *App) addTicketWidget() error {
	cfg := a.start
	if cfg.TicketWidgetURL() == "" {
		return nil
	}
	verifier, proxies, err := a.widgetSignIn()
	if err != nil {
		return err
	}
	srv, err := ticket.New(ticket.Options{Tickets: a.tickets, Verifier: verifier, Bot: a.as.BotClient(),
		IsAppserviceUser: cfg.IsOurUser, Proxies: proxies, Version: rathaus.Version,
		Log: a.log.With().Str("component", "ticketwidget").Logger()})
	if err != nil {
		return err
	}
	a.public = append(a.public, publicRoute{pattern: ticket.Prefix, handler: srv})
	return nil
}

// widgetSignIn is what the widgets' sign-in needs: the OpenID verifier
// (widgets.openid bounds which addresses may be asked) and the trusted
// proxies of the public listener (for its rate limit).
func (a *App) widgetSignIn() (*openid.Verifier, *httpapi.TrustedProxies, error) {
	cfg := a.start
	o := cfg.Widgets.OpenID
	verifier, err := openid.New(openid.Options{Logger: a.log.With().Str("component", "openid").Logger(),
		AllowNetworks: o.AllowedNetworks(), InsecureSkipVerifyLoopback: o.InsecureSkipVerifyLoopback})
	if err != nil {
		return nil, nil, err
	}
	proxies, err := httpapi.ParseTrustedProxies(cfg.GuestChat.TrustedProxies)
	if err != nil {
		return nil, nil, err
	}
	if proxies, err = proxies.WithHeader(cfg.GuestChat.ClientIPHeader); err != nil {
		return nil, nil, err
	}
	return verifier, proxies, nil
}
