"""Where projects stand, as data: the portfolio, one project, receivables; the console only prints them."""
