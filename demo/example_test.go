package demo_test

import (
	"fmt"
	"log"
	"os"

	"github.com/crmigrate/crmigrate/demo"
)

func ExampleWriteFiles() {
	dir, err := os.MkdirTemp("", "crmigrate-demo-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sum, err := demo.WriteFiles(dir, demo.DefaultOptions())
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range demo.Files {
		fmt.Printf("%-34s %5d rows\n", f, sum.Files[f])
	}
	fmt.Printf("entities: %d companies, %d persons, %d deals\n", sum.Entities.Companies, sum.Entities.Contacts, sum.Entities.Deals)
	// Output:
	// crmigrate.yaml                         0 rows
	// exports/hubspot/contacts.csv         598 rows
	// exports/hubspot/companies.csv        157 rows
	// exports/salesforce/Account.csv       200 rows
	// exports/salesforce/Contact.csv      1000 rows
	// exports/salesforce/Opportunity.csv   400 rows
	// truth/contacts.csv                  2998 rows
	// truth/companies.csv                  557 rows
	// truth/deals.csv                      800 rows
	// entities: 292 companies, 1213 persons, 392 deals
}
