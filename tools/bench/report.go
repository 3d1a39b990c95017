package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// anchor returns the figure of target/op at c connections (and users,
// where it matters), or nil.
func anchor(res Results, target, op string, c, users int) *Run {
	for i, r := range res.Runs {
		if r.Target == target && r.Operation == op && r.Connections == c && (users < 0 || r.Users == users) {
			return &res.Runs[i]
		}
	}
	return nil
}

func ratio(r Run, a *Run) string {
	if a == nil || a.RPS == 0 {
		return ""
	}
	return fmt.Sprintf("%.2f×", r.RPS/a.RPS)
}

// growth is the factor by which an operation slowed from the smallest
// users count measured to this one.
func growth(res Results, r Run) string {
	smallest := -1
	for _, x := range res.Runs {
		if x.Target == r.Target && x.Operation == r.Operation && x.Connections == r.Connections && (smallest < 0 || x.Users < smallest) {
			smallest = x.Users
		}
	}
	if smallest < 0 || smallest == r.Users || r.RPS == 0 {
		return ""
	}
	base := anchor(res, r.Target, r.Operation, r.Connections, smallest)
	return fmt.Sprintf("%.2f×", base.RPS/r.RPS)
}

func markdown(res Results) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Durable-commit limit (4 KiB writes with O_DSYNC on the database's disk): **%.0f commits/s**\n\n", res.DurableCommitsPerSec)
	b.WriteString("| target | operation | users | conns | rps | p50 ms | p99 ms | RSS MiB | CPU % | × bare Echo | × Prism | × durable limit | slower than at fewest users | ok % |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range res.Runs {
		echo := anchor(res, "echo", "static", r.Connections, -1)
		prism := anchor(res, "prism", r.Operation, r.Connections, -1)
		var xEcho, xPrism, xDurable string
		if r.Target != "echo" {
			xEcho = ratio(r, echo)
		}
		if r.Target != "prism" {
			xPrism = ratio(r, prism)
		}
		if r.Operation == "patch-change" && res.DurableCommitsPerSec > 0 {
			xDurable = fmt.Sprintf("%.2f×", r.RPS/res.DurableCommitsPerSec)
		}
		users := fmt.Sprint(r.Users)
		if r.Users == 0 {
			users = "—"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %.0f | %.2f | %.2f | %.1f | %.0f | %s | %s | %s | %s | %.1f |\n",
			r.Target, r.Operation, users, r.Connections, r.RPS, r.P50Ms, r.P99Ms, r.RSSMiB, r.CPUPercent, xEcho, xPrism, xDurable, growth(res, r), r.OKPercent)
	}
	return b.String()
}

func cmdOut(name string, args ...string) string {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}

// cpuCount counts the machine's CPUs (runtime.NumCPU counts those this
// pinned process may use).
func cpuCount() int {
	raw, _ := os.ReadFile("/proc/cpuinfo")
	n := strings.Count(string(raw), "\nprocessor")
	if strings.HasPrefix(string(raw), "processor") {
		n++
	}
	if n == 0 {
		n = runtime.NumCPU()
	}
	return n
}

// loadAverage is /proc/loadavg when the run started: on a shared machine
// it says how much else was running.
var loadAverage = func() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}()

func cpuModel() string {
	raw, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(raw), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

// writeResults adds a dated Markdown file (earlier ones are kept) and
// replaces latest.json.
func writeResults(dir string, res Results, table string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	now := time.Now().UTC()
	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmark %s\n\n", now.Format(time.RFC3339))
	fmt.Fprintf(&b, "- Command: `%s`\n", res.Command)
	fmt.Fprintf(&b, "- Machine: %d CPUs (%s), %s, load average before the run %s; targets pinned to CPU 0 with GOMAXPROCS as in the command (default 1), the load generator (wrk, one thread, closed loop) on the others\n",
		cpuCount(), cpuModel(), cmdOut("uname", "-sr"), loadAverage)
	fmt.Fprintf(&b, "- Versions: %s; licensesd at %s; Prism %s; PostgreSQL %s\n", runtime.Version(),
		cmdOut("git", "rev-parse", "--short", "HEAD"), cmdOut("tools/contract/node_modules/.bin/prism", "--version"), cmdOut("postgres", "--version"))
	b.WriteString("- Anchors and Prism do not depend on the users count (shown as —); ratios are to the same connection count\n\n")
	b.WriteString(table)
	name := filepath.Join(dir, now.Format("20060102T150405Z")+".md")
	if err := os.WriteFile(name, []byte(b.String()), 0o644); err != nil {
		return err
	}
	raw, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "latest.json"), append(raw, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Println("wrote", name, "and", filepath.Join(dir, "latest.json"))
	return nil
}
