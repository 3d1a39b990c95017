package ctl

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cloudcockpit-oss/userlicenses/gen"
)

// Completion of names asks the API (with the connection the command line
// gives so far), briefly: a shell waiting on a slow portal is worse than
// no suggestion.
const completionTimeout = 3 * time.Second

type completeFunc func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective)

// completeCustomers suggests company names, each described by its id.
func (o *options) completeCustomers() completeFunc {
	return func(cmd *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
		a, err := o.client(nil)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), completionTimeout)
		defer cancel()
		size := int32(100)
		params := gen.GetCustomersParams{PageSize: &size}
		if prefix != "" {
			params.SearchValue = &prefix
		}
		p, err := a.customersPage(ctx, params)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, c := range p.Items {
			if c.CompanyName != nil && strings.HasPrefix(strings.ToLower(*c.CompanyName), strings.ToLower(prefix)) {
				out = append(out, *c.CompanyName+"\t"+c.Id.String())
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeInstances suggests provider instance aliases.
func (o *options) completeInstances() completeFunc {
	return func(cmd *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
		a, err := o.client(nil)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), completionTimeout)
		defer cancel()
		all, err := a.allProviderInstances(ctx)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, pi := range all {
			if pi.Alias != nil && strings.HasPrefix(strings.ToLower(*pi.Alias), strings.ToLower(prefix)) {
				out = append(out, *pi.Alias+"\t"+pi.Provider.Name+" "+pi.Id.String())
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
