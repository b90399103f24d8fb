package bot

import (
	"strings"
	"unicode"

	"maunium.net/go/mautrix/event"
)

// Prefix starts every bot command.
const Prefix = "!rathaus"

// Parsed is a message read as a bot command.
type Parsed struct {
	// Name is the lower-cased command word ("help", "ping", …); empty when
	// the message was only the prefix.
	Name string
	// Args are the words after the name. The whole message body is one
	// command: words on later lines are arguments, never a second command.
	Args []string
}

// Parse reads a message body as a bot command. It returns false if the
// body is not addressed to the bot. The body is data: it is split on white
// space (newlines included) and nothing in it is interpreted further.
func Parse(body string) (Parsed, bool) {
	fields := strings.FieldsFunc(body, unicode.IsSpace)
	if len(fields) == 0 || !strings.EqualFold(fields[0], Prefix) {
		return Parsed{}, false
	}
	if len(fields) == 1 {
		return Parsed{}, true
	}
	return Parsed{Name: strings.ToLower(fields[1]), Args: fields[2:]}, true
}

// IsCommand reports whether a message body is addressed to the bot.
// Capabilities use it to keep staff commands out of what citizens see.
func IsCommand(body string) bool {
	_, ok := Parse(body)
	return ok
}

// CommandText is the text of a message to read as a command: its body,
// without the quoted original that some clients still put in front of a
// reply (the reply fallback, removed from the spec in v1.13), so that a
// reply such as "!rathaus übernehmen" to an announcement is a command.
func CommandText(msg *event.MessageEventContent) string {
	if msg.RelatesTo.GetReplyTo() == "" {
		return msg.Body
	}
	return event.TrimReplyFallbackText(msg.Body)
}
