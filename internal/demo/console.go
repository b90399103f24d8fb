package demo

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// console serialises the demo's own output and the echoed rathaus log, so
// lines never interleave mid-line.
type console struct {
	mu  sync.Mutex
	out io.Writer
	cwd string
}

func newConsole(out io.Writer) *console {
	cwd, _ := os.Getwd()
	return &console{out: out, cwd: cwd}
}

// Printf writes one formatted message.
func (c *console) Printf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.out, format, args...)
}

// Path shows path relative to the working directory when it lies below it.
func (c *console) Path(path string) string {
	if c.cwd == "" {
		return path
	}
	rel, err := filepath.Rel(c.cwd, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return path
	}
	return rel
}

// Prefixed returns a writer that puts prefix before every line it passes
// on, buffering partial lines. Its errors are never reported back: the
// caller echoes a log that is also written to a file.
func (c *console) Prefixed(prefix string) io.Writer {
	return &prefixWriter{c: c, prefix: []byte(prefix)}
}

type prefixWriter struct {
	c       *console
	prefix  []byte
	partial []byte
}

func (w *prefixWriter) Write(b []byte) (int, error) {
	w.partial = append(w.partial, b...)
	var out bytes.Buffer
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		out.Write(w.prefix)
		out.Write(w.partial[:i+1])
		w.partial = w.partial[i+1:]
	}
	if out.Len() > 0 {
		w.c.mu.Lock()
		_, _ = w.c.out.Write(out.Bytes())
		w.c.mu.Unlock()
	}
	return len(b), nil
}
