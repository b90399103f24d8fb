package config

import (
	"maunium.net/go/mautrix/appservice"
)

// Registration builds the appservice registration the homeserver needs from
// this configuration: the tokens, public_url as the URL, the bot as sender,
// no rate limiting, typing and receipts pushed (receive_ephemeral), and
// exclusive namespaces for the bot, the ghosts and the aliases. Call it only on a configuration that passed Validate; with the
// placeholder tokens the result would be useless.
//
// The namespaces are exclusive so that nobody else (no user, no other
// appservice) can register a name that citizens would take for rathaus.
func (c *Config) Registration() *appservice.Registration {
	rateLimited := false
	return &appservice.Registration{
		ID:              c.AppService.ID,
		URL:             c.AppService.PublicURL,
		AppToken:        c.AppService.ASToken,
		ServerToken:     c.AppService.HSToken,
		SenderLocalpart: c.AppService.Bot.Localpart,
		RateLimited:     &rateLimited,
		EphemeralEvents: true,
		Namespaces: appservice.Namespaces{
			UserIDs: appservice.NamespaceList{
				{Regex: c.BotNamespaceRegex(), Exclusive: true},
				{Regex: c.UserNamespaceRegex(), Exclusive: true},
			},
			RoomAliases: appservice.NamespaceList{
				{Regex: c.AliasNamespaceRegex(), Exclusive: true},
			},
		},
	}
}
