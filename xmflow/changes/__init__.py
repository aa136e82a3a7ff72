"""The writing commands, one module each: new/set/edit/sign, invoices and receipts, sync;
and the session they act in."""
