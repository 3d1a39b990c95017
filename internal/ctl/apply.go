package ctl

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/cloudcockpit-oss/userlicenses/gen"
)

type applyOptions struct {
	file, format, report string
	show                 string
	dryRun               bool
	parallel             int
}

func applyCmd(o *options) *cobra.Command {
	var ao applyOptions
	cmd := &cobra.Command{
		Use:   "apply -f FILE",
		Short: "Apply bulk license changes from a CSV or JSON file: plan, then apply, then report",
		Long: `Applies the license changes of a file. CSV: a header row with the columns
customerId,user,providerInstanceId,sku,action (any order, other columns ignored). JSON: an array
of objects with the same keys. user is an id or a userPrincipalName, sku an id or the SKU's name,
action is assign or remove. -f - reads standard input.

1. Plan: every row is resolved and the current state read, through the API only; the plan shows,
   per user, what will change (+ assign, - remove), what is already so (=), what is impossible (!)
   and why, including assignments that need more seats of a SKU than are free (counted over the
   whole file, per customer), and what is not applied because another row of the same user is
   impossible (~). --dry-run stops here.
2. Apply: one request per user (customer, user, provider instance) with all of that user's rows,
   so each user's change is all or nothing; --parallel at a time; users that only remove go first,
   so the seats they free are there for the others. 429, 502, 503 and 504 are retried, honouring
   Retry-After. Ctrl-C starts no new request, lets those in flight finish and reports; a second
   Ctrl-C aborts them.
3. Report: a summary, and with --report a JSON file with one entry per row (row, the resolved ids,
   outcome changed|unchanged|failed|impossible|skipped, error, correlationId).

Running the same file again after a partial failure applies only what is still missing.
Exit code: 0 when every row ended changed or unchanged (a dry run: when every row can), 1
otherwise, 2 for usage errors.`,
		Example: `  licensesctl apply -f changes.csv --dry-run
  licensesctl apply -f changes.csv --parallel 8 --report report.json
  licensesctl apply -f big.csv --dry-run --show problems
  jq -c . changes.json | licensesctl apply -f - -o json > report.json

  # changes.csv
  customerId,user,providerInstanceId,sku,action
  9c1b7f0e-52a3-4f36-8d6a-3e0f9b8a7c21,lovelace@fabrikam.test,5f0c7b8e-1c1a-4a8e-9a55-0d7c1e7f2a10,Microsoft 365 E3,assign
  9c1b7f0e-52a3-4f36-8d6a-3e0f9b8a7c21,hopper@fabrikam.test,5f0c7b8e-1c1a-4a8e-9a55-0d7c1e7f2a10,Exchange Online (Plan 1),remove`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error { return o.apply(cmd, ao) }),
	}
	f := cmd.Flags()
	f.StringVarP(&ao.file, "file", "f", "", "the changes: a .csv or .json file, or - for standard input (required)")
	f.StringVar(&ao.format, "format", "", "csv or json (default: from the file name, or told from the content)")
	f.BoolVar(&ao.dryRun, "dry-run", false, "plan and print, change nothing")
	f.IntVar(&ao.parallel, "parallel", 4, "requests at a time (1..64)")
	f.StringVar(&ao.report, "report", "", "write a JSON report with one entry per row to this file")
	f.StringVar(&ao.show, "show", showAll, "which rows the printed plan lists: all, changes (not what is already so) or problems (impossible, failed to read, not applied)")
	_ = cmd.RegisterFlagCompletionFunc("show", cobra.FixedCompletions([]string{showAll, showChanges, showProblems}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.MarkFlagRequired("file")
	_ = cmd.MarkFlagFilename("file", "csv", "json")
	_ = cmd.MarkFlagFilename("report", "json")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"csv", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func (o *options) apply(cmd *cobra.Command, ao applyOptions) error {
	switch ao.show {
	case showAll, showChanges, showProblems:
	default:
		return usageErrorf("--show %q: want all, changes or problems", ao.show)
	}
	if ao.parallel < 1 || ao.parallel > 64 {
		return usageErrorf("--parallel %d: want 1..64", ao.parallel)
	}
	format := strings.ToLower(ao.format)
	if format == "" {
		switch strings.ToLower(filepath.Ext(ao.file)) {
		case ".csv":
			format = "csv"
		case ".json":
			format = "json"
		}
	}
	if format != "" && format != "csv" && format != "json" {
		return usageErrorf("--format %q: want csv or json", ao.format)
	}
	var in io.Reader = o.env.Stdin
	if ao.file != "-" {
		f, err := os.Open(ao.file)
		if err != nil {
			return usageErrorf("reading %s: %v", ao.file, unwrapPathError(err))
		}
		defer f.Close()
		in = f
	}
	input, err := readRows(in, format)
	if err != nil {
		return usageErrorf("%s: %v", ao.file, err)
	}
	if len(input) == 0 {
		return usageErrorf("%s has no rows", ao.file)
	}
	// Human text goes to stdout, unless stdout is for the JSON or YAML report.
	human := o.env.Stdout
	if o.output != formatTable {
		human = o.env.Stderr
	}
	var prog progress
	if o.env.StderrIsTerminal {
		prog = &barProgress{w: o.env.Stderr}
	} else {
		prog = &lineProgress{w: o.env.Stderr}
	}
	var notice retryNotice
	if !o.env.StderrIsTerminal {
		notice = o.plainRetryNotice
	}
	a, err := o.client(notice)
	if err != nil {
		return err
	}
	rows := parseRows(input)

	// Reading stops at the first Ctrl-C: nothing has changed yet.
	readCtx, cancelRead := context.WithCancel(cmd.Context())
	stopRead := context.AfterFunc(o.env.Interrupted, cancelRead)
	world, err := a.readWorld(readCtx, rows, ao.parallel)
	stopRead()
	cancelRead()
	if err != nil {
		if o.env.Interrupted.Err() != nil {
			return fmt.Errorf("interrupted while reading the current state; nothing was changed")
		}
		return err
	}
	plan := MakePlan(rows, world)
	printPlan(human, plan, ao.show)

	rep := Report{File: ao.file, DryRun: ao.dryRun}
	if ao.dryRun {
		for _, r := range rows {
			if r.Outcome == Changed {
				r.Outcome = Skipped
				r.Err = &RowError{Description: "dry run: not applied"}
			}
		}
	} else if n := len(plan.Waves[0]) + len(plan.Waves[1]); n > 0 {
		prog.start(n)
		stopped := a.run(cmd.Context(), o.env.Interrupted, plan, ao.parallel, prog, func() {
			fmt.Fprintf(o.env.Stderr, "licensesctl: interrupted: starting no new request, letting those in flight finish (Ctrl-C again aborts them)\n")
		})
		prog.finish()
		rep.Interrupted = stopped
	}
	rep.fill(rows, a.transport.retried.Load())
	printSummary(human, &rep, rows)
	if ao.report != "" {
		raw, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(ao.report, append(raw, '\n'), 0o644); err != nil {
			return fmt.Errorf("writing the report %s: %v", ao.report, unwrapPathError(err))
		}
	}
	if o.output != formatTable {
		if err := printData(o.env.Stdout, o.output, rep, nil); err != nil {
			return err
		}
	}
	if !rep.ok() {
		return silentFailure
	}
	return nil
}

// run applies the waves with at most n requests in flight. Once
// interrupted is done it starts no more request and marks the rows it did
// not send as skipped; ctx (the second interrupt) aborts those in flight.
func (a *api) run(ctx, interrupted context.Context, p *Plan, n int, prog progress, onInterrupt func()) bool {
	stopNotice := context.AfterFunc(interrupted, onInterrupt)
	defer stopNotice()
	for wi, wave := range p.Waves {
		jobs := make(chan *Group)
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for g := range jobs {
					// A worker freed after the interrupt may still be
					// handed a group: it must not start it.
					if interrupted.Err() != nil {
						notSent(g)
						continue
					}
					a.applyGroup(ctx, g)
					prog.done(g)
				}
			}()
		}
	dispatch:
		for i, g := range wave {
			if interrupted.Err() == nil {
				select {
				case jobs <- g:
					continue
				case <-interrupted.Done():
				}
			}
			for _, rest := range wave[i:] {
				notSent(rest)
			}
			break dispatch
		}
		close(jobs)
		wg.Wait()
		if interrupted.Err() != nil {
			for _, later := range p.Waves[wi+1:] {
				for _, g := range later {
					notSent(g)
				}
			}
			return true
		}
	}
	return false
}

// notSent marks a group's changes as skipped by the interrupt.
func notSent(g *Group) {
	for _, rs := range g.ItemRows {
		for _, r := range rs {
			r.Outcome = Skipped
			r.Err = &RowError{Description: "not applied: interrupted before its request was sent"}
		}
	}
}

var itemIndex = regexp.MustCompile(`^customerUserLicenses\[(\d+)\]`)

// applyGroup sends one user's changes and records the outcome on its rows.
func (a *api) applyGroup(ctx context.Context, g *Group) {
	cid, err := a.patch(ctx, g.Key.Customer, g.Key.User, gen.UpdateCustomerUserLicensesRequest{
		ProviderInstanceId: g.Key.Instance, CustomerUserLicenses: g.Items})
	for _, rs := range g.ItemRows {
		for _, r := range rs {
			r.CorrelationID = cid
			r.Outcome = Changed
		}
	}
	if err == nil {
		return
	}
	re, _ := rowErrorOf(err)
	if ctx.Err() != nil {
		re = &RowError{Description: "aborted by a second interrupt while in flight: the outcome is unknown; running the same file again finishes it"}
	}
	// Property errors naming an item go to that item's rows; the others
	// (e.g. providerInstanceId) to every row.
	byItem := map[int][]gen.PropertyError{}
	var general []gen.PropertyError
	for _, pe := range re.Errors {
		if pe.PropertyName != nil {
			if m := itemIndex.FindStringSubmatch(*pe.PropertyName); m != nil {
				i, _ := strconv.Atoi(m[1])
				byItem[i] = append(byItem[i], pe)
				continue
			}
		}
		general = append(general, pe)
	}
	for i, rs := range g.ItemRows {
		for _, r := range rs {
			r.Outcome = Failed
			r.Err = &RowError{Description: re.Description, Errors: append(append([]gen.PropertyError{}, byItem[i]...), general...)}
		}
	}
}

// progress shows how far applying is.
type progress interface {
	start(total int)
	done(g *Group)
	finish()
}

// lineProgress prints one line per user applied: for logs and pipes.
type lineProgress struct {
	w     io.Writer
	mu    sync.Mutex
	n, of int
}

func (p *lineProgress) start(total int) { p.of = total }
func (p *lineProgress) finish()         {}
func (p *lineProgress) done(g *Group) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	fmt.Fprintf(p.w, "[%d/%d] %s\n", p.n, p.of, groupLine(g))
}

// groupLine says what became of one user's request.
func groupLine(g *Group) string {
	var changes []string
	outcome, cid, why := Changed, "", ""
	for i, it := range g.Items {
		sign := "+"
		if !it.IsSelected {
			sign = "-"
		}
		r := g.ItemRows[i][0]
		changes = append(changes, sign+r.SKUName)
		cid = r.CorrelationID
		if r.Outcome == Failed {
			outcome = Failed
			why = r.Err.Description
			for _, pe := range r.Err.Errors {
				if pe.Description != nil {
					why += "; " + cell(pe.PropertyName) + ": " + strings.Join(*pe.Description, " ")
				}
			}
		}
	}
	line := fmt.Sprintf("%s %s (%s): %s", outcome, g.label(), g.Rows[0].CustomerName, strings.Join(changes, ", "))
	if why != "" {
		line += ": " + why
	}
	return line + " · correlation id " + cid
}

// barProgress draws a progress bar on a terminal.
type barProgress struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

func (p *barProgress) start(total int) {
	p.bar = progressbar.NewOptions(total,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription("applying"),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(p.w) }),
	)
}
func (p *barProgress) done(*Group) { _ = p.bar.Add(1) }
func (p *barProgress) finish()     { _ = p.bar.Finish() }

// printPlan prints the plan as a diff, per customer and user.
// The --show choices: which rows the printed plan lists.
const (
	showAll      = "all"
	showChanges  = "changes"
	showProblems = "problems"
)

// shown reports whether the plan lists the row: all of them, the changes
// and problems (not what is already so), or only the problems.
func shown(r *Row, show string) bool {
	switch show {
	case showChanges:
		return r.Plan != Unchanged
	case showProblems:
		return r.Plan != Unchanged && r.Plan != Changed
	}
	return true
}

// printPlan prints the plan as a diff, per customer and user; the counts
// always cover every row.
func printPlan(w io.Writer, p *Plan, show string) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	defer tw.Flush()
	counts := map[Outcome]int{}
	for _, r := range p.Rows {
		counts[r.Plan]++
	}
	fmt.Fprintf(tw, "Plan (%d rows):\n", len(p.Rows))
	grouped := map[*Row]bool{}
	lastCustomer := ""
	for _, g := range p.Groups {
		var rows []*Row
		for _, r := range g.Rows {
			grouped[r] = true
			if shown(r, show) {
				rows = append(rows, r)
			}
		}
		if len(rows) == 0 {
			continue
		}
		head := fmt.Sprintf("%s · %s", g.Rows[0].CustomerName, g.Rows[0].InstanceAlias)
		if head != lastCustomer {
			fmt.Fprintf(tw, "%s\n", head)
			lastCustomer = head
		}
		who := g.label()
		if d := g.Rows[0].DisplayName; d != "" {
			who += " (" + d + ")"
		} else if g.Rows[0].UPN == "" {
			who = "user " + g.Key.User.String()
		}
		fmt.Fprintf(tw, "  %s\n", who)
		for _, r := range rows {
			fmt.Fprintf(tw, "    %s %s\trow %d\t%s\n", planMark(r), skuLabel(r), r.In.N, planNote(r))
		}
	}
	var loose []*Row
	for _, r := range p.Rows {
		if !grouped[r] {
			loose = append(loose, r)
		}
	}
	if len(loose) > 0 {
		fmt.Fprintln(tw, "Rows that cannot be planned:")
		for _, r := range loose {
			fmt.Fprintf(tw, "    %s %s\trow %d\t%s\n", planMark(r), clean(r.In.User)+" "+clean(r.In.SKU), r.In.N, planNote(r))
		}
	}
	users := len(p.Waves[0]) + len(p.Waves[1])
	fmt.Fprintf(tw, "To change: %d rows for %d users; already so: %d; impossible: %d; failed to read: %d; not applied: %d\n",
		counts[Changed], users, counts[Unchanged], counts[Impossible], counts[Failed], counts[Skipped])
}

func skuLabel(r *Row) string {
	if r.SKUName != "" {
		return clean(r.SKUName)
	}
	return clean(r.In.SKU)
}

func planMark(r *Row) string {
	switch r.Plan {
	case Changed:
		if r.Assign {
			return "+"
		}
		return "-"
	case Unchanged:
		return "="
	case Impossible:
		return "!"
	case Failed:
		return "x"
	}
	return "~"
}

func planNote(r *Row) string {
	switch r.Plan {
	case Changed:
		return actionName(r.Assign)
	case Unchanged:
		return "already " + pastTense(actionName(r.Assign))
	}
	if r.Err != nil {
		return clean(r.Err.Description)
	}
	return ""
}

// Report is the outcome of apply, one entry per input row.
type Report struct {
	File        string      `json:"file"`
	DryRun      bool        `json:"dryRun"`
	Interrupted bool        `json:"interrupted"`
	Summary     Summary     `json:"summary"`
	Retries     int64       `json:"retries"`
	Rows        []ReportRow `json:"rows"`
}

// Summary counts the rows by outcome.
type Summary struct {
	Rows       int `json:"rows"`
	Changed    int `json:"changed"`
	Unchanged  int `json:"unchanged"`
	Failed     int `json:"failed"`
	Impossible int `json:"impossible"`
	Skipped    int `json:"skipped"`
}

// ReportRow is one input row's outcome.
type ReportRow struct {
	Row                int        `json:"row"`
	Input              InputRow   `json:"input"`
	CustomerID         *uuid.UUID `json:"customerId"`
	UserID             *uuid.UUID `json:"userId"`
	UserPrincipalName  string     `json:"userPrincipalName,omitempty"`
	ProviderInstanceID *uuid.UUID `json:"providerInstanceId"`
	SKUID              *uuid.UUID `json:"skuId"`
	SKUName            string     `json:"skuName,omitempty"`
	Action             string     `json:"action"`
	Outcome            Outcome    `json:"outcome"`
	Error              *RowError  `json:"error"`
	CorrelationID      string     `json:"correlationId,omitempty"`
	planned            Outcome
}

func (rep *Report) fill(rows []*Row, retries int64) {
	rep.Retries = retries
	rep.Summary = Summary{Rows: len(rows)}
	rep.Rows = make([]ReportRow, len(rows))
	for i, r := range rows {
		action := strings.ToLower(r.In.Action)
		rep.Rows[i] = ReportRow{
			Row: r.In.N, Input: r.In, CustomerID: r.CustomerID, UserID: r.UserID, UserPrincipalName: r.UPN,
			ProviderInstanceID: r.InstanceID, SKUID: r.SKUID, SKUName: r.SKUName, Action: action,
			Outcome: r.Outcome, Error: r.Err, CorrelationID: r.CorrelationID, planned: r.Plan,
		}
		switch r.Outcome {
		case Changed:
			rep.Summary.Changed++
		case Unchanged:
			rep.Summary.Unchanged++
		case Failed:
			rep.Summary.Failed++
		case Impossible:
			rep.Summary.Impossible++
		default:
			rep.Summary.Skipped++
		}
	}
}

// ok is the exit status: every row ended changed or unchanged; for a dry
// run, every row would (the plan found nothing impossible).
func (rep *Report) ok() bool {
	if rep.DryRun {
		for _, r := range rep.Rows {
			if r.Outcome != Unchanged && !(r.Outcome == Skipped && r.planned == Changed) {
				return false
			}
		}
		return true
	}
	return rep.Summary.Changed+rep.Summary.Unchanged == rep.Summary.Rows
}

func printSummary(w io.Writer, rep *Report, rows []*Row) {
	s := rep.Summary
	if rep.DryRun {
		plans := map[Outcome]int{}
		for _, r := range rows {
			plans[r.Plan]++
		}
		fmt.Fprintf(w, "Dry run, nothing was changed: %d to change, %d already so, %d impossible, %d failed to read, %d not applied because of another row (%d rows)\n",
			plans[Changed], plans[Unchanged], plans[Impossible], plans[Failed], plans[Skipped], s.Rows)
		return
	}
	fmt.Fprintf(w, "Applied: %d changed, %d unchanged (already so), %d failed, %d impossible, %d skipped (%d rows)",
		s.Changed, s.Unchanged, s.Failed, s.Impossible, s.Skipped, s.Rows)
	if rep.Retries > 0 {
		fmt.Fprintf(w, "; %d requests retried", rep.Retries)
	}
	fmt.Fprintln(w)
	if rep.Interrupted {
		fmt.Fprintln(w, "Interrupted: the rows not applied are skipped.")
	}
	failed := false
	for _, r := range rows {
		if r.Outcome != Failed {
			continue
		}
		if !failed {
			fmt.Fprintln(w, "Failed:")
			failed = true
		}
		fmt.Fprintf(w, "  row %d %s %s: %s\n", r.In.N, clean(r.In.User), skuLabel(r), clean(r.Err.Description))
		for _, pe := range r.Err.Errors {
			if pe.Description != nil {
				fmt.Fprintf(w, "    %s: %s\n", cell(pe.PropertyName), clean(strings.Join(*pe.Description, " ")))
			}
		}
		if r.CorrelationID != "" {
			fmt.Fprintf(w, "    correlation id: %s\n", r.CorrelationID)
		}
	}
	if !rep.ok() {
		fmt.Fprintln(w, "Running the same file again applies only what is still missing.")
	}
}
