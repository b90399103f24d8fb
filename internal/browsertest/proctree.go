package browsertest

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"
)

// proc identifies one process for as long as it lives: a pid can be reused,
// the pair of pid and start time cannot.
type proc struct {
	pid   int
	pgid  int
	start uint64 // clock ticks after boot, field 22 of /proc/<pid>/stat
}

// procTree remembers every process ever seen below one root process, so
// that processes which were reparented when their parent died (Chromium,
// after its Node parent was killed) can still be found and killed.
type procTree struct {
	root int

	mu   sync.Mutex
	seen map[int]proc
}

func newProcTree(root int) *procTree {
	return &procTree{root: root, seen: make(map[int]proc)}
}

// scan adds the current descendants of the root.
func (t *procTree) scan() {
	all := readProcs()
	children := make(map[int][]proc)
	for _, p := range all {
		children[p.ppid] = append(children[p.ppid], p.proc)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	queue := []int{t.root}
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		for _, c := range children[pid] {
			t.seen[c.pid] = c
			queue = append(queue, c.pid)
		}
	}
}

// alive returns the remembered processes that still run (zombies count as
// gone: they hold no resources but their exit status).
func (t *procTree) alive() []proc {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []proc
	for _, p := range t.seen {
		if cur, ok := readProc(p.pid); ok && cur.start == p.start && !cur.zombie {
			out = append(out, p)
		}
	}
	return out
}

// kill sends SIGKILL to every remembered process that still runs and to
// its process group, never to the group of the test binary itself.
func (t *procTree) kill() {
	own := syscall.Getpgrp()
	for _, p := range t.alive() {
		if p.pgid > 0 && p.pgid != own {
			_ = syscall.Kill(-p.pgid, syscall.SIGKILL)
		}
		_ = syscall.Kill(p.pid, syscall.SIGKILL)
	}
}

type procEntry struct {
	proc
	ppid   int
	zombie bool
}

func readProcs() []procEntry {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []procEntry
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, ok := readProc(pid); ok {
			out = append(out, p)
		}
	}
	return out
}

// readProc parses /proc/<pid>/stat. The command name in field 2 may contain
// spaces and parentheses, so fields are counted from its last ')'.
func readProc(pid int) (procEntry, bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procEntry{}, false
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return procEntry{}, false
	}
	fields := bytes.Fields(data[i+1:]) // fields[0] is field 3 (state)
	if len(fields) < 20 {
		return procEntry{}, false
	}
	ppid, err1 := strconv.Atoi(string(fields[1]))
	pgid, err2 := strconv.Atoi(string(fields[2]))
	start, err3 := strconv.ParseUint(string(fields[19]), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return procEntry{}, false
	}
	return procEntry{
		proc:   proc{pid: pid, pgid: pgid, start: start},
		ppid:   ppid,
		zombie: string(fields[0]) == "Z" || string(fields[0]) == "X",
	}, true
}
