package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"time"

	"github.com/rs/zerolog"

	"github.com/rathaus-de/rathaus/config"
)

// redactedFields never reach the log. mautrix's HTTP client attaches the
// request body of every Matrix call as "req_body" (at debug level, and at
// error level when a call fails); for a send that is the message a citizen
// or caseworker wrote.
var redactedFields = []string{"req_body"}

// newLogger builds the process logger from the logging config.
func newLogger(cfg config.LoggingConfig, w io.Writer) zerolog.Logger {
	if cfg.Format == config.LogFormatConsole {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.DateTime, NoColor: !isTerminal(w), FieldsExclude: redactedFields}
	} else {
		w = redactingWriter{out: w}
	}
	return zerolog.New(w).Level(cfg.Level.Zerolog()).With().Timestamp().Logger()
}

// redactingWriter removes redactedFields from JSON log lines.
type redactingWriter struct{ out io.Writer }

func (rw redactingWriter) Write(p []byte) (int, error) {
	if !containsField(p) {
		return rw.out.Write(p)
	}
	var line map[string]json.RawMessage
	if err := json.Unmarshal(p, &line); err != nil {
		// Not a JSON object: drop it rather than risk writing the field.
		return len(p), nil
	}
	for _, f := range redactedFields {
		delete(line, f)
	}
	out, err := json.Marshal(line)
	if err != nil {
		return len(p), nil
	}
	if _, err = rw.out.Write(append(out, '\n')); err != nil {
		return 0, err
	}
	return len(p), nil
}

func containsField(p []byte) bool {
	for _, f := range redactedFields {
		if bytes.Contains(p, []byte(`"`+f+`"`)) {
			return true
		}
	}
	return false
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
