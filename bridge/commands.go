package bridge

import (
	"strings"
	"unicode"
)

// CommandPrefix starts every bot command.
const CommandPrefix = "!rathaus"

// Command is a parsed bot command.
type Command struct {
	// Name is the lower-cased command word ("help", "ping", …); empty when
	// the message was only the prefix.
	Name string
	// Args are the words after the name. The whole message body is one
	// command: words on later lines are arguments, never a second command.
	Args []string
}

// ParseCommand reads a message body as a bot command. It returns false if
// the body is not addressed to the bot. The body is data: it is split on
// white space (newlines included) and nothing in it is interpreted further.
func ParseCommand(body string) (Command, bool) {
	fields := strings.FieldsFunc(body, unicode.IsSpace)
	if len(fields) == 0 || !strings.EqualFold(fields[0], CommandPrefix) {
		return Command{}, false
	}
	if len(fields) == 1 {
		return Command{}, true
	}
	return Command{Name: strings.ToLower(fields[1]), Args: fields[2:]}, true
}
