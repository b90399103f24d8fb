package config

import (
	"fmt"
	"net/netip"
)

// WidgetsConfig configures the room widgets rathaus serves (docs/ozg.md,
// "Ticket widget").
type WidgetsConfig struct {
	// OpenID is how a widget's sign-in checks the user's OpenID token at
	// the user's homeserver.
	OpenID WidgetOpenIDConfig `yaml:"openid"`
	// Ticket is the OZG ticket widget in case rooms with a ticket.
	Ticket TicketWidgetConfig `yaml:"ticket"`
}

// WidgetOpenIDConfig bounds whom rathaus asks about an OpenID token.
type WidgetOpenIDConfig struct {
	// AllowNetworks are address prefixes (CIDR) that are refused by
	// default (loopback, private, link-local, …) but where homeservers may
	// be asked anyway: an authority's own network, 127.0.0.0/8 in tests.
	AllowNetworks []string `yaml:"allow_networks"`
	// InsecureSkipVerifyLoopback skips TLS verification for homeservers on
	// a loopback address (tests with self-signed certificates); loopback
	// must also be in AllowNetworks.
	InsecureSkipVerifyLoopback bool `yaml:"insecure_skip_verify_loopback"`
}

// TicketWidgetConfig is the OZG ticket widget.
type TicketWidgetConfig struct {
	// Enabled serves the widget on the guest chat's listener and adds it
	// to new case rooms that carry a ticket. It needs guest_chat.enabled
	// (the public listener and URL); without it the widget is off.
	Enabled bool `yaml:"enabled"`
}

// AllowedNetworks parses AllowNetworks (Validate has checked them).
func (o WidgetOpenIDConfig) AllowedNetworks() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range o.AllowNetworks {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
		}
	}
	return out
}

func defaultWidgets() WidgetsConfig {
	return WidgetsConfig{OpenID: WidgetOpenIDConfig{AllowNetworks: []string{}}, Ticket: TicketWidgetConfig{Enabled: true}}
}

// TicketWidgetURL is the URL of the ticket widget as the room's widget state
// names it, with the widget API's template variables, or "" if the widget
// is off.
func (c *Config) TicketWidgetURL() string {
	if !c.Widgets.Ticket.Enabled || !c.GuestChat.Enabled || c.GuestChat.PublicURL == "" {
		return ""
	}
	base := c.GuestChat.PublicURL
	for len(base) > 0 && base[len(base)-1] == '/' {
		base = base[:len(base)-1]
	}
	return base + "/widgets/ticket/?widgetId=$matrix_widget_id&roomId=$matrix_room_id&userId=$matrix_user_id" +
		"&theme=$org.matrix.msc2873.client_theme&lang=$org.matrix.msc2873.client_language"
}

func (c *Config) validateWidgets(errs *ValidationErrors) {
	for i, s := range c.Widgets.OpenID.AllowNetworks {
		if _, err := netip.ParsePrefix(s); err != nil {
			errs.add(fmt.Sprintf("widgets.openid.allow_networks[%d]", i), "must be an address prefix such as 10.20.0.0/16 or 127.0.0.0/8")
		}
	}
}
