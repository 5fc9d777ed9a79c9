"""The risk and issue register kept in the store: owner, due date, status and source per entry."""
