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

	"github.com/rathaus-de/rathaus/internal/plaintext"
	"github.com/rathaus-de/rathaus/store"
)

// parkedCommand lists the inbox events and outbox jobs that failed every
// retry, or gives them back with -requeue (events) and -requeue-jobs.
func parkedCommand(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("parked", stderr)
	path := fs.String("c", "", "path to the config file")
	requeue := fs.String("requeue", "", `"all", or the seqs of parked events to requeue, comma-separated (from the list)`)
	requeueJobs := fs.String("requeue-jobs", "", `"all", or the ids of parked outbox jobs to requeue, comma-separated`)
	limit := fs.Int("limit", 100, "list at most this many")
	if !parseFlags(fs, args, stderr) {
		return ExitUsage
	}
	seqs, ok := parseIDs("-requeue", *requeue, stderr)
	if !ok {
		return ExitUsage
	}
	jobIDs, ok := parseIDs("-requeue-jobs", *requeueJobs, stderr)
	if !ok {
		return ExitUsage
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

	if *requeue != "" || *requeueJobs != "" {
		for _, r := range []struct {
			flag          string
			ids           []int64
			run           func(context.Context, []int64) (int, error)
			done, unknown string
		}{
			{*requeue, seqs, s.RequeueParked,
				"Requeued %d parked event(s). A running rathaus handles them within about 10 s; a stopped one when it starts.\n",
				"%d of the seqs given were not parked (handled, requeued before, or pruned).\n"},
			{*requeueJobs, jobIDs, s.RequeueJobs,
				"Requeued %d parked outbox job(s), under their old delivery ids. A running rathaus tries them within about 5 s.\n",
				"%d of the ids given were not parked (done, requeued before, or pruned).\n"},
		} {
			if r.flag == "" {
				continue
			}
			n, err := r.run(ctx, r.ids)
			if err != nil {
				fmt.Fprintf(stderr, "rathaus parked: %v\n", err)
				return ExitFailure
			}
			fmt.Fprintf(stdout, r.done, n)
			if len(r.ids) > n {
				fmt.Fprintf(stdout, r.unknown, len(r.ids)-n)
			}
		}
		return ExitOK
	}
	parked, err := s.ParkedEvents(ctx, *limit)
	if err != nil {
		fmt.Fprintf(stderr, "rathaus parked: %v\n", err)
		return ExitFailure
	}
	jobs, err := s.ParkedJobs(ctx, *limit)
	if err != nil {
		fmt.Fprintf(stderr, "rathaus parked: %v\n", err)
		return ExitFailure
	}
	if len(parked) == 0 {
		fmt.Fprintln(stdout, "No parked events: every event from the homeserver was handled or is still being retried.")
	} else {
		fmt.Fprintln(stdout, "Events from the homeserver:")
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SEQ\tPARKED AT\tATTEMPTS\tTYPE\tROOM\tEVENT\tLAST ERROR")
		for _, p := range parked {
			fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s\t%s\n", p.Seq, p.ParkedAt.UTC().Format(time.RFC3339), p.Attempts, p.Type,
				p.RoomID, p.EventID, plaintext.Line(p.LastError, 200))
		}
		_ = tw.Flush()
		fmt.Fprintf(stdout, "%d parked event(s)%s. Fix the cause, then: rathaus parked -c %s -requeue all (or -requeue SEQ,SEQ)\n",
			len(parked), moreHint(len(parked), *limit), *path)
	}
	if len(jobs) == 0 {
		fmt.Fprintln(stdout, "No parked outbox jobs: every webhook was delivered or is still being retried.")
	} else {
		fmt.Fprintln(stdout, "Outbox jobs (webhooks):")
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tPARKED AT\tATTEMPTS\tKIND\tDELIVERY ID\tLAST ERROR")
		for _, j := range jobs {
			fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s\n", j.ID, j.FinishedAt.UTC().Format(time.RFC3339), j.Attempts, j.Kind,
				j.DeliveryID, plaintext.Line(j.LastError, 200))
		}
		_ = tw.Flush()
		fmt.Fprintf(stdout, "%d parked job(s)%s. Fix the cause, then: rathaus parked -c %s -requeue-jobs all (or -requeue-jobs ID,ID)\n",
			len(jobs), moreHint(len(jobs), *limit), *path)
	}
	return ExitOK
}

// parseIDs reads "all" (nil, meaning all) or comma-separated positive
// numbers; "" is nothing to do.
func parseIDs(flagName, v string, stderr io.Writer) ([]int64, bool) {
	if v == "" || v == "all" {
		return nil, true
	}
	var ids []int64
	for _, f := range strings.Split(v, ",") {
		id, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
		if err != nil || id <= 0 {
			fmt.Fprintf(stderr, "rathaus parked: %s wants \"all\" or numbers like 12,15; %q is not one\n", flagName, f)
			return nil, false
		}
		ids = append(ids, id)
	}
	return ids, true
}

func moreHint(n, limit int) string {
	if n < limit {
		return ""
	}
	return fmt.Sprintf(" shown (the first %d; -limit shows more)", limit)
}
