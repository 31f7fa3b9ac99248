DROP INDEX accounts_due;
