package e2e

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/gen"
)

// giveE3 is the client example of README.md, verbatim: keep them in step.
func giveE3(ctx context.Context, baseURL, tenant, token string, customer, user, instance, sku uuid.UUID) error {
	c, err := gen.NewClientWithResponses(baseURL,
		gen.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
			r.Header.Set("X-Tenant", tenant)
			r.Header.Set("Authorization", "Bearer "+token)
			return nil
		}))
	if err != nil {
		return err
	}
	res, err := c.UpdateCustomerUserLicensesWithResponse(ctx, customer, user, &gen.UpdateCustomerUserLicensesParams{},
		gen.UpdateCustomerUserLicensesRequest{
			ProviderInstanceId:   instance,
			CustomerUserLicenses: []gen.CustomerUserLicense{{SkuId: sku, IsSelected: true}},
		})
	if err != nil {
		return err
	}
	if res.JSON400 != nil { // the published error body
		for _, e := range *res.JSON400.Errors {
			fmt.Println(*e.PropertyName, *e.Description)
		}
	}
	return nil
}

func TestReadmeClientExample(t *testing.T) {
	e := start(t)
	if err := giveE3(context.Background(), e.url, tenant, cspToken(t), fabrikam, ada, msInstance, skuE3); err != nil {
		t.Fatal(err)
	}
	if !e.userLicenses(t, fabrikam, ada)[skuE3].IsSelected {
		t.Fatal("the README example did not assign E3")
	}
	// A SKU without seats takes the 400 branch of the example.
	if err := giveE3(context.Background(), e.url, tenant, cspToken(t), fabrikam, ada, msInstance, skuEO1); err != nil {
		t.Fatal(err)
	}
	if e.userLicenses(t, fabrikam, ada)[skuEO1].IsSelected {
		t.Fatal("a SKU without seats was assigned")
	}
}
