package ctl

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/cloudcockpit-oss/userlicenses/gen"
)

// paging are the flags of a paged list.
type paging struct {
	page, size int32
	all        bool
}

func (p *paging) flags(cmd *cobra.Command) {
	cmd.Flags().Int32Var(&p.page, "page", 1, "the page to show, from 1")
	cmd.Flags().Int32Var(&p.size, "page-size", 25, "items per page (1..2000)")
	cmd.Flags().BoolVar(&p.all, "all", false, "follow every page (pages of 2000 unless --page-size is given)")
	cmd.MarkFlagsMutuallyExclusive("page", "all")
}

func (p *paging) check(cmd *cobra.Command) error {
	if p.page < 1 {
		return usageErrorf("--page %d: pages are numbered from 1", p.page)
	}
	if p.size < 1 || p.size > maxPageSize {
		return usageErrorf("--page-size %d: want 1..%d", p.size, maxPageSize)
	}
	if p.all && !cmd.Flags().Changed("page-size") {
		p.size = maxPageSize
	}
	return nil
}

// pageNote says on stderr that more pages exist.
func (o *options) pageNote(p paging, totalPages, totalCount int32, next bool, what string) {
	// On stderr whatever the format: a script reading -o json must not
	// take one page for the whole list unknowingly.
	if p.all || !next && p.page == 1 {
		return
	}
	if !next {
		fmt.Fprintf(o.env.Stderr, "page %d of %d (%d %s)\n", p.page, totalPages, totalCount, what)
		return
	}
	fmt.Fprintf(o.env.Stderr, "page %d of %d (%d %s); --page %d for the next, --all for every page\n",
		p.page, totalPages, totalCount, what, p.page+1)
}

func customersCmd(o *options) *cobra.Command {
	cmd := &cobra.Command{Use: "customers", Short: "The portal's customers"}
	var pg paging
	var search, reseller string
	var desc bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List the customers you may see (a reseller sees only its own)",
		Example: `  licensesctl customers list
  licensesctl customers list --search fabri -o json
  licensesctl customers list --reseller b0b0b0b0-0000-4000-8000-000000000001 --all`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			if err := pg.check(cmd); err != nil {
				return err
			}
			params := gen.GetCustomersParams{PageSize: &pg.size}
			if search != "" {
				params.SearchValue = &search
			}
			if desc {
				f := false
				params.AscendingOrder = &f
			}
			if reseller != "" {
				id, ok := isUUID(reseller)
				if !ok {
					return usageErrorf("--reseller %q is not a uuid", reseller)
				}
				params.ResellerId = &id
			}
			a, err := o.client(o.plainRetryNotice)
			if err != nil {
				return err
			}
			ctx, cancel := o.ctx(cmd)
			defer cancel()
			var items []gen.Customer
			var last *gen.CustomersPage
			for n := pg.page; ; n++ {
				params.PageNumber = &n
				p, err := a.customersPage(ctx, params)
				if err != nil {
					return err
				}
				items, last = append(items, p.Items...), p
				if !pg.all || !p.HasNextPage || len(p.Items) == 0 {
					break
				}
			}
			if items == nil {
				items = []gen.Customer{}
			}
			err = printData(o.env.Stdout, o.output, items, func(tw *tabwriter.Writer) {
				row(tw, "ID", "COMPANY NAME", "RESELLER", "RESELLER ID")
				for _, c := range items {
					row(tw, c.Id, c.CompanyName, c.ResellerName, c.ResellerId)
				}
			})
			o.pageNote(pg, last.TotalPages, last.TotalCount, last.HasNextPage, "customers")
			return err
		}),
	}
	pg.flags(list)
	list.Flags().StringVar(&search, "search", "", "only customers whose company name contains this, case-insensitively")
	list.Flags().StringVar(&reseller, "reseller", "", "only the customers of this reseller (id)")
	list.Flags().BoolVar(&desc, "desc", false, "sort by company name descending")

	get := &cobra.Command{
		Use:   "get CUSTOMER",
		Short: "Show one customer, by id or by company name",
		Example: `  licensesctl customers get 9c1b7f0e-52a3-4f36-8d6a-3e0f9b8a7c21
  licensesctl customers get Fabrikam -o yaml`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: o.completeCustomers(),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			a, err := o.client(o.plainRetryNotice)
			if err != nil {
				return err
			}
			ctx, cancel := o.ctx(cmd)
			defer cancel()
			id, _, err := a.resolveCustomer(ctx, args[0])
			if err != nil {
				return err
			}
			c, err := a.customer(ctx, id, nil)
			if err != nil {
				return err
			}
			return printData(o.env.Stdout, o.output, c, func(tw *tabwriter.Writer) {
				row(tw, "ID", "COMPANY NAME", "RESELLER", "RESELLER ID")
				row(tw, c.Id, c.CompanyName, c.ResellerName, c.ResellerId)
			})
		}),
	}
	cmd.AddCommand(list, get)
	return cmd
}

func providerInstancesCmd(o *options) *cobra.Command {
	cmd := &cobra.Command{Use: "provider-instances", Aliases: []string{"pi"}, Short: "The portal's provider instances (connections to Microsoft and others)"}
	var pg paging
	list := &cobra.Command{
		Use:   "list",
		Short: "List the provider instances, by provider",
		Example: `  licensesctl provider-instances list
  licensesctl pi list -o json`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			if err := pg.check(cmd); err != nil {
				return err
			}
			a, err := o.client(o.plainRetryNotice)
			if err != nil {
				return err
			}
			ctx, cancel := o.ctx(cmd)
			defer cancel()
			var items []gen.ProviderInstance
			var last *gen.ProviderInstancesPage
			for n := pg.page; ; n++ {
				p, err := a.providerInstancesPage(ctx, gen.GetProviderInstancesParams{PageNumber: &n, PageSize: &pg.size})
				if err != nil {
					return err
				}
				items, last = append(items, p.Items...), p
				if !pg.all || !p.HasNextPage || len(p.Items) == 0 {
					break
				}
			}
			if items == nil {
				items = []gen.ProviderInstance{}
			}
			err = printData(o.env.Stdout, o.output, items, func(tw *tabwriter.Writer) {
				row(tw, "ID", "ALIAS", "PROVIDER")
				for _, pi := range items {
					row(tw, pi.Id, pi.Alias, pi.Provider.Name)
				}
			})
			o.pageNote(pg, last.TotalPages, last.TotalCount, last.HasNextPage, "provider instances")
			return err
		}),
	}
	pg.flags(list)
	cmd.AddCommand(list)
	return cmd
}

// target are the flags naming a customer and a provider instance.
type target struct {
	customer, instance string
}

func (t *target) flags(cmd *cobra.Command, o *options) {
	cmd.Flags().StringVar(&t.customer, "customer", "", "the customer: id or company name (required)")
	cmd.Flags().StringVar(&t.instance, "provider-instance", "", "the provider instance: id or alias (default: the portal's only Microsoft instance)")
	_ = cmd.MarkFlagRequired("customer")
	_ = cmd.RegisterFlagCompletionFunc("customer", o.completeCustomers())
	_ = cmd.RegisterFlagCompletionFunc("provider-instance", o.completeInstances())
}

func licensesCmd(o *options) *cobra.Command {
	cmd := &cobra.Command{Use: "licenses", Short: "A customer's licenses (SKUs and seats)"}
	var t target
	var reseller string
	list := &cobra.Command{
		Use:   "list",
		Short: "List a customer's SKUs with their seats",
		Example: `  licensesctl licenses list --customer Fabrikam
  licensesctl licenses list --customer 9c1b7f0e-52a3-4f36-8d6a-3e0f9b8a7c21 --provider-instance "Contoso CSP" -o json`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			var rid *uuid.UUID
			if reseller != "" {
				id, ok := isUUID(reseller)
				if !ok {
					return usageErrorf("--reseller %q is not a uuid", reseller)
				}
				rid = &id
			}
			a, err := o.client(o.plainRetryNotice)
			if err != nil {
				return err
			}
			ctx, cancel := o.ctx(cmd)
			defer cancel()
			cust, _, err := a.resolveCustomer(ctx, t.customer)
			if err != nil {
				return err
			}
			pi, err := a.resolveInstance(ctx, t.instance)
			if err != nil {
				return err
			}
			ls, _, err := a.customerLicenses(ctx, cust, pi, rid)
			if err != nil {
				return err
			}
			return printData(o.env.Stdout, o.output, ls, func(tw *tabwriter.Writer) {
				row(tw, "SKU ID", "NAME", "AVAILABLE", "CONSUMED", "SUSPENDED", "TOTAL")
				for _, l := range ls {
					row(tw, l.SkuId, l.Name, deref(l.AvailableLicenses), deref(l.ConsumedLicenses), deref(l.SuspendedLicenses), deref(l.TotalLicenses))
				}
			})
		}),
	}
	t.flags(list, o)
	list.Flags().StringVar(&reseller, "reseller", "", "the customer must belong to this reseller (id)")
	cmd.AddCommand(list)
	return cmd
}

func deref(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}

func usersCmd(o *options) *cobra.Command {
	cmd := &cobra.Command{Use: "users", Short: "A customer's users"}
	var t target
	var pg paging
	var search, sort string
	list := &cobra.Command{
		Use:   "list",
		Short: "List a customer's users",
		Example: `  licensesctl users list --customer Fabrikam
  licensesctl users list --customer Fabrikam --search lovelace
  licensesctl users list --customer Fabrikam --all --sort upn -o json`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			if err := pg.check(cmd); err != nil {
				return err
			}
			var s gen.GetCustomerUsersParamsSort
			switch strings.ToLower(sort) {
			case "display-name", "displayname":
				s = gen.DisplayName
			case "upn", "userprincipalname":
				s = gen.UserPrincipalName
			default:
				return usageErrorf("--sort %q: want display-name or upn", sort)
			}
			a, err := o.client(o.plainRetryNotice)
			if err != nil {
				return err
			}
			ctx, cancel := o.ctx(cmd)
			defer cancel()
			cust, _, err := a.resolveCustomer(ctx, t.customer)
			if err != nil {
				return err
			}
			pi, err := a.resolveInstance(ctx, t.instance)
			if err != nil {
				return err
			}
			params := gen.GetCustomerUsersParams{ProviderInstanceId: pi, PageSize: &pg.size, Sort: &s}
			if search != "" {
				params.Search = &search
			}
			var items []gen.CustomerUser
			var last *gen.CustomerUsersPage
			for n := pg.page; ; n++ {
				params.PageNumber = &n
				p, err := a.usersPage(ctx, cust, params)
				if err != nil {
					return err
				}
				items, last = append(items, p.Items...), p
				if !pg.all || !p.HasNextPage || len(p.Items) == 0 {
					break
				}
			}
			if items == nil {
				items = []gen.CustomerUser{}
			}
			err = printData(o.env.Stdout, o.output, items, func(tw *tabwriter.Writer) {
				row(tw, "ID", "DISPLAY NAME", "USER PRINCIPAL NAME")
				for _, u := range items {
					row(tw, u.Id, u.DisplayName, u.UserPrincipalName)
				}
			})
			o.pageNote(pg, last.TotalPages, last.TotalCount, last.HasNextPage, "users")
			return err
		}),
	}
	t.flags(list, o)
	pg.flags(list)
	list.Flags().StringVar(&search, "search", "", "only users whose display name or userPrincipalName contains this, case-insensitively")
	list.Flags().StringVar(&sort, "sort", "display-name", "order: display-name or upn")
	_ = list.RegisterFlagCompletionFunc("sort", cobra.FixedCompletions([]string{"display-name", "upn"}, cobra.ShellCompDirectiveNoFileComp))
	cmd.AddCommand(list)
	return cmd
}

func userLicensesCmd(o *options) *cobra.Command {
	cmd := &cobra.Command{Use: "user-licenses", Short: "One user's licenses: show them, assign and remove SKUs"}
	var t target
	var user string
	get := &cobra.Command{
		Use:   "get",
		Short: "Show the customer's SKUs with whether the user holds each",
		Example: `  licensesctl user-licenses get --customer Fabrikam --user lovelace@fabrikam.test
  licensesctl user-licenses get --customer Fabrikam --user 1a2b3c4d-0000-4000-8000-000000000001 -o json`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			a, err := o.client(o.plainRetryNotice)
			if err != nil {
				return err
			}
			ctx, cancel := o.ctx(cmd)
			defer cancel()
			cust, uid, pi, _, err := a.resolveUserTarget(ctx, t, user)
			if err != nil {
				return err
			}
			ls, _, err := a.userLicenses(ctx, cust, uid, pi)
			if err != nil {
				return err
			}
			return printData(o.env.Stdout, o.output, ls, func(tw *tabwriter.Writer) {
				row(tw, "HELD", "SKU ID", "NAME", "AVAILABLE", "TOTAL")
				for _, l := range ls {
					held := "no"
					if l.IsSelected {
						held = "yes"
					}
					row(tw, held, l.SkuId, l.Name, deref(l.AvailableLicenses), deref(l.TotalLicenses))
				}
			})
		}),
	}
	t.flags(get, o)
	get.Flags().StringVar(&user, "user", "", "the user: id or userPrincipalName (required)")
	_ = get.MarkFlagRequired("user")

	var st target
	var suser string
	var assign, remove []string
	var dry bool
	set := &cobra.Command{
		Use:   "set",
		Short: "Assign and remove SKUs of one user, all or nothing",
		Long: `Assigns and removes SKUs of one user in one request: either every change is made or none.
SKUs are named by id or by name; SKUs not named are left as they are. The result lists, per
SKU, what changed and what was already so.`,
		Example: `  licensesctl user-licenses set --customer Fabrikam --user lovelace@fabrikam.test --assign "Microsoft 365 E3"
  licensesctl user-licenses set --customer Fabrikam --user lovelace@fabrikam.test \
      --assign 05e9a617-0261-4cee-bb44-138d3ef5d965 --remove "Exchange Online (Plan 1)"
  licensesctl user-licenses set --customer Fabrikam --user lovelace@fabrikam.test --remove "Power BI Pro" --dry-run`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			if len(assign)+len(remove) == 0 {
				return usageErrorf("nothing to do: give --assign SKU or --remove SKU (repeatable)")
			}
			a, err := o.client(o.plainRetryNotice)
			if err != nil {
				return err
			}
			ctx, cancel := o.ctx(cmd)
			defer cancel()
			cust, uid, pi, upn, err := a.resolveUserTarget(ctx, st, suser)
			if err != nil {
				return err
			}
			ls, _, err := a.userLicenses(ctx, cust, uid, pi)
			if err != nil {
				return err
			}
			ix := newSKUIndex(ls)
			type want struct {
				l      gen.CustomerUserLicense
				assign bool
			}
			wants := map[uuid.UUID]want{}
			var order []uuid.UUID
			var problems []string
			for _, x := range []struct {
				refs   []string
				assign bool
			}{{assign, true}, {remove, false}} {
				for _, ref := range x.refs {
					l, why := ix.find(ref)
					if why != "" {
						problems = append(problems, why)
						continue
					}
					if w, dup := wants[l.SkuId]; dup && w.assign != x.assign {
						problems = append(problems, fmt.Sprintf("%s is both assigned and removed", cell(l.Name)))
						continue
					}
					if _, dup := wants[l.SkuId]; !dup {
						order = append(order, l.SkuId)
					}
					wants[l.SkuId] = want{l, x.assign}
				}
			}
			if len(problems) > 0 {
				return usageErrorf("%s", strings.Join(problems, "; "))
			}
			var body []gen.CustomerUserLicense
			type result struct {
				SkuID   uuid.UUID `json:"skuId"`
				Name    string    `json:"name"`
				Action  string    `json:"action"`
				Outcome string    `json:"outcome"`
			}
			var results []result
			for _, id := range order {
				w := wants[id]
				r := result{SkuID: id, Name: cell(w.l.Name), Action: actionName(w.assign), Outcome: "unchanged"}
				if w.l.IsSelected != w.assign {
					body = append(body, gen.CustomerUserLicense{SkuId: id, IsSelected: w.assign})
					r.Outcome = "changed"
					if dry {
						r.Outcome = "would change"
					}
				}
				results = append(results, r)
			}
			cid := ""
			if len(body) > 0 && !dry {
				cid, err = a.patch(ctx, cust, uid, gen.UpdateCustomerUserLicensesRequest{ProviderInstanceId: pi, CustomerUserLicenses: body})
				if err != nil {
					return err
				}
			}
			out := struct {
				CustomerID         uuid.UUID `json:"customerId"`
				UserID             uuid.UUID `json:"userId"`
				UserPrincipalName  string    `json:"userPrincipalName,omitempty"`
				ProviderInstanceID uuid.UUID `json:"providerInstanceId"`
				DryRun             bool      `json:"dryRun"`
				CorrelationID      string    `json:"correlationId,omitempty"`
				Changes            []result  `json:"changes"`
			}{cust, uid, upn, pi, dry, cid, results}
			return printData(o.env.Stdout, o.output, out, func(tw *tabwriter.Writer) {
				for _, r := range results {
					mark, what := "=", "already "+pastTense(r.Action)
					if r.Outcome != "unchanged" {
						mark, what = "+", pastTense(r.Action)
						if r.Action == "remove" {
							mark = "-"
						}
						if dry {
							what = "would be " + what
						}
					}
					row(tw, mark, r.Name, what)
				}
				switch {
				case dry:
					fmt.Fprintln(tw, "dry run: nothing was changed")
				case cid != "":
					fmt.Fprintf(tw, "correlation id: %s\n", cid)
				default:
					fmt.Fprintln(tw, "nothing to change")
				}
			})
		}),
	}
	st.flags(set, o)
	set.Flags().StringVar(&suser, "user", "", "the user: id or userPrincipalName (required)")
	_ = set.MarkFlagRequired("user")
	set.Flags().StringArrayVar(&assign, "assign", nil, "a SKU to assign, by id or name (repeatable)")
	set.Flags().StringArrayVar(&remove, "remove", nil, "a SKU to remove, by id or name (repeatable)")
	set.Flags().BoolVar(&dry, "dry-run", false, "show what would change and change nothing")
	cmd.AddCommand(get, set)
	return cmd
}

func actionName(assign bool) string {
	if assign {
		return "assign"
	}
	return "remove"
}

func pastTense(action string) string {
	if action == "assign" {
		return "assigned"
	}
	return "removed"
}

// resolveUserTarget resolves --customer, --provider-instance and --user.
func (a *api) resolveUserTarget(ctx context.Context, t target, user string) (cust, uid, pi uuid.UUID, upn string, err error) {
	if cust, _, err = a.resolveCustomer(ctx, t.customer); err != nil {
		return
	}
	if pi, err = a.resolveInstance(ctx, t.instance); err != nil {
		return
	}
	uid, upn, err = a.resolveUser(ctx, cust, pi, user)
	return
}

func auditCmd(o *options) *cobra.Command {
	var pg paging
	var since time.Duration
	var start, end, status, customer, customerName, resellerName, reseller, correlationID string
	var operations []string
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Read the audit trail, newest first",
		Long: `Reads the audit records, newest first: one per license assigned or removed, and one per item
of a refused update (status Failed, with the reason). Every licensesctl request carries a fresh
correlation id, printed with any failure: --correlation-id finds what that request did.`,
		Example: `  licensesctl audit --since 24h
  licensesctl audit --correlation-id 2341ade8-cee4-4fc1-9318-87e7808c4ac6
  licensesctl audit --customer Fabrikam --status Failed --operation AssignUserLicense -o json`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			if err := pg.check(cmd); err != nil {
				return err
			}
			params := gen.GetAuditLogsParams{PageSize: &pg.size}
			tm := func(flag, v string) (*time.Time, error) {
				if v == "" {
					return nil, nil
				}
				t, err := time.Parse(time.RFC3339, v)
				if err != nil {
					return nil, usageErrorf("--%s %q: want an RFC 3339 time such as 2026-12-03T09:00:00Z", flag, v)
				}
				return &t, nil
			}
			var err error
			if params.StartDate, err = tm("start", start); err != nil {
				return err
			}
			if params.EndDate, err = tm("end", end); err != nil {
				return err
			}
			if since > 0 {
				if params.StartDate != nil {
					return usageErrorf("--since and --start both say where to start: give one")
				}
				t := time.Now().Add(-since).UTC()
				params.StartDate = &t
			}
			for _, op := range operations {
				if !slices.Contains([]string{"AssignUserLicense", "RemoveUserLicense"}, op) {
					return usageErrorf("--operation %q: want AssignUserLicense or RemoveUserLicense", op)
				}
			}
			if len(operations) > 0 {
				ops := strings.Join(operations, "|")
				params.Operations = &ops
			}
			if status != "" {
				s := gen.AuditLogStatus(status)
				if !slices.Contains([]gen.AuditLogStatus{gen.Processing, gen.Succeded, gen.Failed}, s) {
					return usageErrorf("--status %q: want Processing, Succeded or Failed (the published spelling)", status)
				}
				params.Status = &s
			}
			uuidFlag := func(flag, v string) (*uuid.UUID, error) {
				if v == "" {
					return nil, nil
				}
				id, ok := isUUID(v)
				if !ok {
					return nil, usageErrorf("--%s %q is not a uuid", flag, v)
				}
				return &id, nil
			}
			if params.ResellerId, err = uuidFlag("reseller", reseller); err != nil {
				return err
			}
			if params.CorrelationId, err = uuidFlag("correlation-id", correlationID); err != nil {
				return err
			}
			if customerName != "" {
				params.Customer = &customerName
			}
			if resellerName != "" {
				params.Reseller = &resellerName
			}
			a, err := o.client(o.plainRetryNotice)
			if err != nil {
				return err
			}
			ctx, cancel := o.ctx(cmd)
			defer cancel()
			if customer != "" {
				id, _, err := a.resolveCustomer(ctx, customer)
				if err != nil {
					return err
				}
				params.CustomerId = &id
			}
			var items []gen.AuditLog
			var last *gen.AuditLogsPage
			for n := pg.page; ; n++ {
				params.PageNumber = &n
				p, err := a.auditPage(ctx, params)
				if err != nil {
					return err
				}
				items, last = append(items, p.Items...), p
				if !pg.all || !p.HasNextPage || len(p.Items) == 0 {
					break
				}
			}
			if items == nil {
				items = []gen.AuditLog{}
			}
			err = printData(o.env.Stdout, o.output, items, func(tw *tabwriter.Writer) {
				row(tw, "TIME", "STATUS", "OPERATION", "CUSTOMER", "USER ID", "SKU", "ACTOR", "CORRELATION ID", "REASON")
				for _, r := range items {
					sku := cell(r.SkuName)
					if sku == "-" {
						sku = r.SkuId.String()
					}
					row(tw, r.CreatedAt.UTC().Format(time.RFC3339), string(r.Status), string(r.Operation), r.CustomerName, r.CustomerUserId, sku, r.Actor, r.CorrelationId, r.Reason)
				}
			})
			o.pageNote(pg, last.TotalPages, last.TotalCount, last.HasNextPage, "records")
			return err
		}),
	}
	pg.flags(cmd)
	f := cmd.Flags()
	f.DurationVar(&since, "since", 0, "only records of the last DURATION (e.g. 24h)")
	f.StringVar(&start, "start", "", "only records at or after this RFC 3339 time")
	f.StringVar(&end, "end", "", "only records before this RFC 3339 time")
	f.StringArrayVar(&operations, "operation", nil, "only this operation: AssignUserLicense or RemoveUserLicense (repeatable)")
	f.StringVar(&status, "status", "", "only this status: Processing, Succeded or Failed")
	f.StringVar(&customer, "customer", "", "only this customer: id or company name")
	_ = cmd.RegisterFlagCompletionFunc("customer", o.completeCustomers())
	f.StringVar(&customerName, "customer-name", "", "only customers whose name contains this")
	f.StringVar(&resellerName, "reseller-name", "", "only customers whose reseller's name contains this")
	f.StringVar(&reseller, "reseller", "", "only the customers of this reseller (id)")
	f.StringVar(&correlationID, "correlation-id", "", "only what the request with this correlation id did")
	_ = cmd.RegisterFlagCompletionFunc("status", cobra.FixedCompletions([]string{"Processing", "Succeded", "Failed"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("operation", cobra.FixedCompletions([]string{"AssignUserLicense", "RemoveUserLicense"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func configCmd(o *options) *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "The connection licensesctl would use"}
	show := &cobra.Command{
		Use:   "show",
		Short: "Show the URL, tenant and token in use and where each comes from (the token redacted)",
		Example: `  licensesctl config show
  licensesctl config show --profile woodgrove
  LICENSES_TENANT=portal.contoso.test licensesctl config show -o json`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			c, err := resolveConnection(o.conn, o.env.Getenv)
			if err != nil {
				return err
			}
			tok := ""
			if c.Token != "" {
				tok = redact(c.Token)
			}
			out := struct {
				ConfigFile string `json:"configFile"`
				Profile    string `json:"profile"`
				URL        string `json:"url"`
				URLFrom    string `json:"urlFrom"`
				Tenant     string `json:"tenant"`
				TenantFrom string `json:"tenantFrom"`
				Token      string `json:"token"`
				TokenFrom  string `json:"tokenFrom"`
			}{c.ConfigPath, c.Profile, c.URL, c.URLFrom, c.Tenant, c.TenantFrom, tok, c.TokenFrom}
			return printData(o.env.Stdout, o.output, out, func(tw *tabwriter.Writer) {
				row(tw, "SETTING", "VALUE", "FROM")
				row(tw, "config file", c.ConfigPath, "")
				row(tw, "profile", c.Profile, "")
				row(tw, "url", c.URL, c.URLFrom)
				row(tw, "tenant", c.Tenant, c.TenantFrom)
				row(tw, "token", tok, c.TokenFrom)
			})
		}),
	}
	cmd.AddCommand(show)
	return cmd
}
