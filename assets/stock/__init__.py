"""Stock out: what each listing may sell per channel (every term explained in a ledger), pushed to the
channels as deltas against what they last acknowledged."""
