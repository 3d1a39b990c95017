package ctl

import (
	"strings"
	"testing"
)

func TestReadRows_csvAndJSON(t *testing.T) {
	tests := []struct {
		name, format, text string
		wantErr            string // part of the file's error
		want               []InputRow
	}{
		{name: "columnsInAnyOrderExtraIgnoredBOMAndSpaces", text: "\ufeffaction, sku,note,user,providerInstanceId,customerId\nassign, E3 ,hi,ada@x.test,p,c\n",
			want: []InputRow{{N: 1, CustomerID: "c", User: "ada@x.test", ProviderInstanceID: "p", SKU: "E3", Action: "assign"}}},
		{name: "headerCaseIgnored", text: "CUSTOMERID,User,PROVIDERINSTANCEID,Sku,Action\nc,u,p,s,remove\n",
			want: []InputRow{{N: 1, CustomerID: "c", User: "u", ProviderInstanceID: "p", SKU: "s", Action: "remove"}}},
		{name: "shortRowIsThatRowsProblem", text: "customerId,user,providerInstanceId,sku,action\nc,u,p\nc,u,p,s,assign\n",
			want: []InputRow{{N: 1, CustomerID: "c", User: "u", ProviderInstanceID: "p", Problem: "the row has 3 fields and lacks sku, action"},
				{N: 2, CustomerID: "c", User: "u", ProviderInstanceID: "p", SKU: "s", Action: "assign"}}},
		{name: "quotedCommaInASKUName", text: "customerId,user,providerInstanceId,sku,action\nc,u,p,\"Visio, Plan 2\",assign\n",
			want: []InputRow{{N: 1, CustomerID: "c", User: "u", ProviderInstanceID: "p", SKU: "Visio, Plan 2", Action: "assign"}}},
		{name: "missingColumnsRefuseTheFile", text: "customerId,user,sku\nc,u,s\n", wantErr: "the header lacks providerInstanceId, action"},
		{name: "duplicateColumnRefusesTheFile", text: "customerId,user,providerInstanceId,sku,action,sku\n", wantErr: "names column sku twice"},
		{name: "emptyFile", text: "", wantErr: "the file is empty"},
		{name: "brokenQuoteRefusesTheFile", text: "customerId,user,providerInstanceId,sku,action\nc,\"u,p,s,assign\n", wantErr: "malformed"},
		{name: "jsonToldFromContent", text: "  [{\"customerId\":\"c\",\"user\":\"u\",\"providerInstanceId\":\"p\",\"sku\":\"s\",\"action\":\"assign\",\"extra\":1}]",
			want: []InputRow{{N: 1, CustomerID: "c", User: "u", ProviderInstanceID: "p", SKU: "s", Action: "assign"}}},
		{name: "jsonBadElementsAreTheirRowsProblem", format: "json", text: `[1, {"customerId":"c","user":5,"providerInstanceId":"p","sku":"s"}]`,
			want: []InputRow{{N: 1, Problem: "the element is not an object"},
				{N: 2, CustomerID: "c", ProviderInstanceID: "p", SKU: "s", Problem: "the element user is not a string, lacks action"}}},
		{name: "jsonNotAnArray", format: "json", text: `{"rows":[]}`, wantErr: "not an array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readRows(strings.NewReader(tt.text), tt.format)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("rows = %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("row %d = %+v, want %+v", i+1, got[i], tt.want[i])
				}
			}
		})
	}
}
