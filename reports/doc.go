// Package reports renders the results of crmigrate's engines for people and
// machines: terminal tables (tablewriter), Markdown, JSON and more. It only
// renders what it is given; it never reads a database, a file or the
// environment.
//
// RenderPlanMap prints the data-model map built by plans.BuildMap.
package reports
