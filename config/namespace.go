package config

import (
	"regexp"
	"strings"

	"maunium.net/go/mautrix/id"
)

// templatePlaceholder marks where a ghost's name goes in
// appservice.ghost_username_template.
const templatePlaceholder = "{{.}}"

// splitTemplate returns the text before and after the one "{{.}}" in
// template; ok is false unless there is exactly one.
func splitTemplate(template string) (prefix, suffix string, ok bool) {
	if strings.Count(template, templatePlaceholder) != 1 {
		return "", "", false
	}
	prefix, suffix, _ = strings.Cut(template, templatePlaceholder)
	return prefix, suffix, true
}

// ghostAffixes returns the ghost template's prefix and suffix. For a
// template that Validate would refuse it treats the whole template as the
// prefix, so the helpers below stay total; callers run Validate first.
func (c *Config) ghostAffixes() (prefix, suffix string) {
	prefix, suffix, ok := splitTemplate(c.AppService.GhostUsernameTemplate)
	if !ok {
		return c.AppService.GhostUsernameTemplate, ""
	}
	return prefix, suffix
}

// BotUserID returns the appservice bot's user ID, e.g. @rathaus:stadt.example.
func (c *Config) BotUserID() id.UserID {
	return id.NewUserID(c.AppService.Bot.Localpart, c.Homeserver.ServerName)
}

// GhostUserID returns the user ID of the ghost called name, e.g.
// GhostUserID("guest_ab12") is @_rathaus_guest_ab12:stadt.example.
// name is used as is: it must consist of localpart characters
// (a-z 0-9 . _ = - / +) and must not be empty.
func (c *Config) GhostUserID(name string) id.UserID {
	prefix, suffix := c.ghostAffixes()
	return id.NewUserID(prefix+name+suffix, c.Homeserver.ServerName)
}

// GhostName returns the name GhostUserID was given for userID, and false if
// userID is not in the ghost namespace.
func (c *Config) GhostName(userID id.UserID) (string, bool) {
	return c.namespaceMiddle(string(userID), "@")
}

// GhostAlias returns the room alias for name under the ghost template, e.g.
// #_rathaus_bauamt:stadt.example. The same rules for name apply as for
// GhostUserID.
func (c *Config) GhostAlias(name string) id.RoomAlias {
	prefix, suffix := c.ghostAffixes()
	return id.NewRoomAlias(prefix+name+suffix, c.Homeserver.ServerName)
}

// BotNamespaceRegex returns the anchored regex for exactly the bot's user ID,
// e.g. ^@rathaus:stadt\.example$.
func (c *Config) BotNamespaceRegex() string {
	return "^" + regexp.QuoteMeta(string(c.BotUserID())) + "$"
}

// UserNamespaceRegex returns the anchored regex for all ghost user IDs,
// e.g. ^@_rathaus_.+:stadt\.example$.
func (c *Config) UserNamespaceRegex() string {
	return c.namespaceRegex("@")
}

// AliasNamespaceRegex returns the anchored regex for all room aliases rathaus
// owns, e.g. ^#_rathaus_.+:stadt\.example$. Aliases share the ghost template.
func (c *Config) AliasNamespaceRegex() string {
	return c.namespaceRegex("#")
}

func (c *Config) namespaceRegex(sigil string) string {
	prefix, suffix := c.ghostAffixes()
	return "^" + regexp.QuoteMeta(sigil+prefix) + ".+" +
		regexp.QuoteMeta(suffix+":"+c.Homeserver.ServerName) + "$"
}

// IsOurUser reports whether userID is the bot or one of rathaus's ghosts,
// that is, whether the registration's user namespaces cover it.
func (c *Config) IsOurUser(userID id.UserID) bool {
	if userID == c.BotUserID() {
		return true
	}
	_, ok := c.namespaceMiddle(string(userID), "@")
	return ok
}

// IsOurAlias reports whether alias lies in rathaus's alias namespace.
func (c *Config) IsOurAlias(alias id.RoomAlias) bool {
	_, ok := c.namespaceMiddle(string(alias), "#")
	return ok
}

// namespaceMiddle matches s against namespaceRegex(sigil) without compiling
// it (this runs for every event): s must start with sigil+prefix, end with
// suffix+":"+server name, and have at least one character other than a
// newline between them, which is what ".+" matches. A test checks that it
// agrees with the regex.
func (c *Config) namespaceMiddle(s, sigil string) (string, bool) {
	prefix, suffix := c.ghostAffixes()
	head := sigil + prefix
	tail := suffix + ":" + c.Homeserver.ServerName
	if len(s) <= len(head)+len(tail) || !strings.HasPrefix(s, head) || !strings.HasSuffix(s, tail) {
		return "", false
	}
	middle := s[len(head) : len(s)-len(tail)]
	if strings.Contains(middle, "\n") {
		return "", false
	}
	return middle, true
}
