package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The load generator is wrk (installed by `make bench`/`.ci/run` from the
// distribution): closed loop, one thread on the CPUs the targets do not
// use. vegeta was tried first and topped out near 6,800 requests/s on one
// CPU, a seventh of what wrk drives bare Echo to, so it measured itself.
//
// Each cell runs a generated Lua script: the requests of the operation
// computed from a counter, which starts where the previous cell of the
// same server stopped (patch-change alternates assign and remove per pass
// over the users, so that seats never run out and every request writes).

// luaUsers caps the user ids inlined in a script.
const luaUsers = 20000

func (f *fixture) lua(op, token string, offset uint64) (string, error) {
	var b strings.Builder
	users := f.users[:min(len(f.users), luaUsers)]
	b.WriteString("local users = {")
	for _, u := range users {
		fmt.Fprintf(&b, "%q,", u.String())
	}
	b.WriteString("}\n")
	fmt.Fprintf(&b, "local n = %d\nlocal i = %d\n", len(users), offset)
	fmt.Fprintf(&b, "local customer, pi, tenant = %q, %q, %q\n", f.customer.String(), f.pi.String(), f.tenant)
	fmt.Fprintf(&b, "local hdr = {[\"Authorization\"] = %q, [\"X-Tenant\"] = tenant, [\"Accept\"] = \"application/json\"}\n", "Bearer "+token)
	b.WriteString("local phdr = {[\"Authorization\"] = hdr[\"Authorization\"], [\"X-Tenant\"] = tenant, [\"Content-Type\"] = \"application/json\"}\n")
	b.WriteString("local function patch(u, sku, sel)\n  return wrk.format(\"PATCH\", \"/v1/Customers/\" .. customer .. \"/users/\" .. u .. \"/licenses\", phdr,\n" +
		"    '{\"providerInstanceId\":\"' .. pi .. '\",\"customerUserLicenses\":[{\"skuId\":\"' .. sku .. '\",\"isSelected\":' .. sel .. '}]}')\nend\n")
	b.WriteString("local function get(path) return wrk.format(\"GET\", path, hdr) end\n")
	b.WriteString("request = function()\n  i = i + 1\n  local u = users[(i % n) + 1]\n")
	switch op {
	case "static":
		b.WriteString("  return wrk.format(\"GET\", \"/static\")\n")
	case "get-user-licenses":
		b.WriteString("  return get(\"/v1/Customers/\" .. customer .. \"/users/\" .. u .. \"/licenses?providerInstanceId=\" .. pi)\n")
	case "customer-licenses":
		b.WriteString("  return get(\"/v1/Customers/\" .. customer .. \"/licenses?providerInstanceId=\" .. pi)\n")
	case "users-first-page":
		b.WriteString("  return get(\"/v1/Customers/\" .. customer .. \"/users?providerInstanceId=\" .. pi .. \"&pageSize=25\")\n")
	case "users-deep-page":
		// Nine tenths of the way through the list: the page after the
		// one whose token was fetched (keyset), or by number when the
		// target gave no token.
		if f.deepToken != "" {
			fmt.Fprintf(&b, "  return get(\"/v1/Customers/\" .. customer .. \"/users?providerInstanceId=\" .. pi .. \"&pageSize=25&seek=Next&continuationToken=%s\")\n", url.QueryEscape(f.deepToken))
		} else {
			fmt.Fprintf(&b, "  return get(\"/v1/Customers/\" .. customer .. \"/users?providerInstanceId=\" .. pi .. \"&pageSize=25&pageNumber=%d\")\n", deepPage(f.n))
		}
	case "users-search":
		// A substring of a few users' names, different on each request.
		fmt.Fprintf(&b, "  return get(\"/v1/Customers/\" .. customer .. \"/users?providerInstanceId=\" .. pi .. \"&pageSize=25&search=\" .. string.format(\"%%05d\", i %% %d))\n", max(1, f.n/10))
	case "audit-first-page":
		b.WriteString("  return get(\"/v1/AuditLogs?PageSize=25\")\n")
	case "patch-noop":
		fmt.Fprintf(&b, "  return patch(users[(i %% %d) + 1], %q, \"true\")\n", f.noopUsers, f.noopSKU.String())
	case "patch-change":
		fmt.Fprintf(&b, "  local sel = \"false\"\n  if math.floor(i / n) %% 2 == 0 then sel = \"true\" end\n  return patch(u, %q, sel)\n", f.changeSKU.String())
	default:
		return "", fmt.Errorf("unknown operation %q", op)
	}
	b.WriteString("end\n")
	b.WriteString(`done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCH {"requests":%d,"duration_us":%d,"status_errors":%d,"socket_errors":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`)
	return b.String(), nil
}

type wrkSummary struct {
	Requests     float64 `json:"requests"`
	DurationUS   float64 `json:"duration_us"`
	StatusErrors float64 `json:"status_errors"`
	SocketErrors float64 `json:"socket_errors"`
	P50US        float64 `json:"p50_us"`
	P99US        float64 `json:"p99_us"`
}

// attack drives base with c closed-loop connections for d running script
// and returns the cell's figures (the largest RSS of pid seen meanwhile).
// counter advances by the requests made.
func attack(o options, base, script string, c int, d time.Duration, pid int, counter *atomic.Uint64) (Run, error) {
	f, err := os.CreateTemp(o.workDir, "cell-*.lua")
	if err != nil {
		return Run{}, err
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(script); err != nil {
		return Run{}, err
	}
	f.Close()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if r := uint64(rssMiB(pid) * 1024); r > peak.Load() {
				peak.Store(r)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	secs := max(1, int(d.Round(time.Second).Seconds()))
	args := []string{"-t1", "-c" + strconv.Itoa(c), "-d" + strconv.Itoa(secs) + "s", "--timeout", "30s", "-s", filepath.Base(f.Name()), base}
	cmd := exec.Command("wrk", args...)
	cmd.Dir = filepath.Dir(f.Name())
	cpu0, t0 := cpuSeconds(pid), time.Now()
	out, err := cmd.CombinedOutput()
	cpu := 100 * (cpuSeconds(pid) - cpu0) / time.Since(t0).Seconds()
	close(stop)
	wg.Wait()
	if err != nil {
		return Run{}, fmt.Errorf("wrk: %w: %s", err, tail(string(out), 1000))
	}
	var s wrkSummary
	for _, line := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(line, "BENCH "); ok {
			if err := json.Unmarshal([]byte(rest), &s); err != nil {
				return Run{}, err
			}
		}
	}
	if s.Requests == 0 {
		return Run{}, errors.New("wrk made no request: " + tail(string(out), 1000))
	}
	counter.Add(uint64(s.Requests))
	ok := s.Requests - s.StatusErrors
	r := Run{Connections: c, RSSMiB: round(float64(peak.Load())/1024, 1),
		RPS: round(ok/(s.DurationUS/1e6), 0), P50Ms: round(s.P50US/1000, 3), P99Ms: round(s.P99US/1000, 3),
		OKPercent: round(100*(ok-s.SocketErrors)/s.Requests, 2), CPUPercent: round(cpu, 0)}
	if s.StatusErrors > 0 || s.SocketErrors > 0 {
		r.Statuses = map[string]int{"non-2xx": int(s.StatusErrors), "socket errors": int(s.SocketErrors)}
	}
	return r, nil
}

// attackReplicas is attack on one licensesd, or on several replicas at
// once, each driven by its own wrk with its share of the connections and a
// script starting half a pass further (so that the replicas write to
// different users). Requests/s and CPU add up; p50, p99 and RSS are the
// worst replica's (wrk's histograms cannot be merged from its summary).
func attackReplicas(o options, fx *fixture, bases []string, op, token string, d time.Duration, c int, pids []int, counter *atomic.Uint64) (Run, error) {
	if len(bases) == 1 || c < len(bases) {
		script, err := fx.lua(op, token, counter.Load())
		if err != nil {
			return Run{}, err
		}
		return attack(o, bases[0], script, c, d, pids[0], counter)
	}
	runs := make([]Run, len(bases))
	errs := make([]error, len(bases))
	var wg sync.WaitGroup
	start := counter.Load()
	for i, base := range bases {
		script, err := fx.lua(op, token, start+uint64(i*len(fx.users)/len(bases)))
		if err != nil {
			return Run{}, err
		}
		share := c / len(bases)
		if i < c%len(bases) {
			share++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			runs[i], errs[i] = attack(o, base, script, share, d, pids[i], counter)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return Run{}, err
	}
	out := Run{Connections: c, OKPercent: 100}
	for _, r := range runs {
		out.RPS += r.RPS
		out.CPUPercent += r.CPUPercent
		out.P50Ms, out.P99Ms, out.RSSMiB = max(out.P50Ms, r.P50Ms), max(out.P99Ms, r.P99Ms), max(out.RSSMiB, r.RSSMiB)
		out.OKPercent = min(out.OKPercent, r.OKPercent)
		for k, v := range r.Statuses {
			if out.Statuses == nil {
				out.Statuses = map[string]int{}
			}
			out.Statuses[k] += v
		}
	}
	return out, nil
}
