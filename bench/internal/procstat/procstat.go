// Package procstat reads what the ingest benchmark measures of a process
// from Linux's /proc: CPU time (utime+stime), resident memory (VmRSS) and
// its peak (VmHWM), and the CPU time of a whole server such as PostgreSQL,
// whose work is done by the children of one process.
package procstat

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of the times in /proc/<pid>/stat. The
// kernel reports 100 to user space on every architecture Go supports on
// Linux, whatever its internal HZ.
const clockTicks = 100

// ErrFormat is returned when a /proc file does not read as expected (a
// kernel with another layout, or a process that exited mid-read).
var ErrFormat = errors.New("unexpected /proc format")

// Stat is the part of /proc/<pid>/stat the benchmark uses.
type Stat struct {
	PPid int
	// User and System are the process's own CPU time, all threads.
	User, System time.Duration
	// ChildUser and ChildSystem are the CPU time of children that exited
	// and were waited for.
	ChildUser, ChildSystem time.Duration
}

// CPU is the process's own CPU time.
func (s Stat) CPU() time.Duration { return s.User + s.System }

// ParseStat parses the content of /proc/<pid>/stat.
func ParseStat(text string) (Stat, error) {
	// The command name (field 2) is in parentheses and may hold spaces
	// and parentheses itself: the fields after it start after the last ')'.
	end := strings.LastIndexByte(text, ')')
	if end < 0 {
		return Stat{}, fmt.Errorf("%w: no command name in stat", ErrFormat)
	}
	fields := strings.Fields(text[end+1:])
	// fields[0] is field 3 (state); field n is fields[n-3].
	if len(fields) < 15 {
		return Stat{}, fmt.Errorf("%w: %d fields in stat", ErrFormat, len(fields)+2)
	}
	nums := make([]int64, 0, 5)
	for _, n := range []int{4, 14, 15, 16, 17} {
		v, err := strconv.ParseInt(fields[n-3], 10, 64)
		if err != nil {
			return Stat{}, fmt.Errorf("%w: stat field %d: %w", ErrFormat, n, err)
		}
		nums = append(nums, v)
	}
	tick := func(v int64) time.Duration { return time.Duration(v) * time.Second / clockTicks }
	return Stat{PPid: int(nums[0]), User: tick(nums[1]), System: tick(nums[2]),
		ChildUser: tick(nums[3]), ChildSystem: tick(nums[4])}, nil
}

// ReadStat reads /proc/<pid>/stat.
func ReadStat(pid int) (Stat, error) {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return Stat{}, err
	}
	return ParseStat(string(data))
}

// CPU returns the CPU time the process has used so far.
func CPU(pid int) (time.Duration, error) {
	s, err := ReadStat(pid)
	if err != nil {
		return 0, err
	}
	return s.CPU(), nil
}

// TreeCPU returns the CPU time of a server process and its children: its
// own, that of its children that exited (which the kernel adds to the
// parent once it waits for them, as a postmaster does for its backends)
// and that of its children still running. The difference of two readings
// is the server's CPU time in between, however many backends came and
// went.
func TreeCPU(pid int) (time.Duration, error) {
	parent, err := ReadStat(pid)
	if err != nil {
		return 0, err
	}
	total := parent.CPU() + parent.ChildUser + parent.ChildSystem
	children, err := Children(pid)
	if err != nil {
		return 0, err
	}
	for _, c := range children {
		s, err := ReadStat(c)
		if err != nil {
			continue // exited meanwhile: the parent's child times hold it now, or soon
		}
		total += s.CPU() + s.ChildUser + s.ChildSystem
	}
	return total, nil
}

// Children returns the pids of the running children of pid.
func Children(pid int) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var out []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue // not a process
		}
		s, err := ReadStat(child)
		if err != nil {
			continue // exited meanwhile
		}
		if s.PPid == pid {
			out = append(out, child)
		}
	}
	return out, nil
}

// Memory is the part of /proc/<pid>/status the benchmark uses, in bytes.
type Memory struct {
	// RSS is the resident set size now (VmRSS).
	RSS int64
	// PeakRSS is the largest RSS since the process started (VmHWM).
	PeakRSS int64
}

// ParseStatus parses the content of /proc/<pid>/status.
func ParseStatus(text string) (Memory, error) {
	var m Memory
	var found int
	for line := range strings.Lines(text) {
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		var dst *int64
		switch key {
		case "VmRSS":
			dst = &m.RSS
		case "VmHWM":
			dst = &m.PeakRSS
		default:
			continue
		}
		fields := strings.Fields(value)
		if len(fields) != 2 || fields[1] != "kB" {
			return Memory{}, fmt.Errorf("%w: %s: %q", ErrFormat, key, strings.TrimSpace(value))
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return Memory{}, fmt.Errorf("%w: %s: %w", ErrFormat, key, err)
		}
		*dst = kb * 1024
		found++
	}
	if found != 2 {
		return Memory{}, fmt.Errorf("%w: VmRSS or VmHWM missing from status", ErrFormat)
	}
	return m, nil
}

// ReadMemory reads /proc/<pid>/status.
func ReadMemory(pid int) (Memory, error) {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return Memory{}, err
	}
	return ParseStatus(string(data))
}
