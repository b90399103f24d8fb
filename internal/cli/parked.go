package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"

	"github.com/rathaus-de/rathaus/store"
)

// parkedCommand lists the inbox events that failed every retry, or gives
// them back to the dispatcher with -requeue.
func parkedCommand(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("parked", stderr)
	path := fs.String("c", "", "path to the config file")
	requeue := fs.String("requeue", "", `"all", or seqs to requeue, comma-separated (from the list)`)
	limit := fs.Int("limit", 100, "list at most this many")
	if !parseFlags(fs, args, stderr) {
		return ExitUsage
	}
	var seqs []int64
	if *requeue != "" && *requeue != "all" {
		for _, f := range strings.Split(*requeue, ",") {
			seq, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
			if err != nil || seq <= 0 {
				fmt.Fprintf(stderr, "rathaus parked: -requeue wants \"all\" or seqs like 12,15; %q is not a seq\n", f)
				return ExitUsage
			}
			seqs = append(seqs, seq)
		}
	}
	if *limit < 1 {
		fmt.Fprintln(stderr, "rathaus parked: -limit must be at least 1")
		return ExitUsage
	}
	cfg, code := loadValidConfig(*path, stderr)
	if code != ExitOK {
		return code
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db := cfg.Database
	s, err := store.Open(ctx, store.Options{Type: string(db.Type), URI: db.URI, MaxOpenConns: 2, Log: zerolog.Nop()})
	if err != nil {
		fmt.Fprintf(stderr, "rathaus parked: %v\n", err)
		return ExitFailure
	}
	defer s.Close()

	if *requeue != "" {
		n, err := s.RequeueParked(ctx, seqs)
		if err != nil {
			fmt.Fprintf(stderr, "rathaus parked: %v\n", err)
			return ExitFailure
		}
		fmt.Fprintf(stdout, "Requeued %d parked event(s). A running rathaus handles them within about 10 s; a stopped one when it starts.\n", n)
		if len(seqs) > n {
			fmt.Fprintf(stdout, "%d of the seqs given were not parked (handled, requeued before, or pruned).\n", len(seqs)-n)
		}
		return ExitOK
	}
	parked, err := s.ParkedEvents(ctx, *limit)
	if err != nil {
		fmt.Fprintf(stderr, "rathaus parked: %v\n", err)
		return ExitFailure
	}
	if len(parked) == 0 {
		fmt.Fprintln(stdout, "No parked events: every event from the homeserver was handled or is still being retried.")
		return ExitOK
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tPARKED AT\tATTEMPTS\tTYPE\tROOM\tEVENT\tLAST ERROR")
	for _, p := range parked {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s\t%s\n", p.Seq, p.ParkedAt.UTC().Format(time.RFC3339), p.Attempts, p.Type,
			p.RoomID, p.EventID, oneLine(p.LastError, 200))
	}
	_ = tw.Flush()
	fmt.Fprintf(stdout, "\n%d parked event(s)%s. Fix the cause, then: rathaus parked -c %s -requeue all (or -requeue SEQ,SEQ)\n",
		len(parked), moreHint(len(parked), *limit), *path)
	return ExitOK
}

func moreHint(n, limit int) string {
	if n < limit {
		return ""
	}
	return fmt.Sprintf(" shown (the first %d; -limit shows more)", limit)
}

// oneLine keeps an error message on one line of at most n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		s = string(r[:n-1]) + "…"
	}
	return s
}
