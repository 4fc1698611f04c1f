"""The review team's workspace: overview of a review cycle, results per question with filters,
crosstabs, weighting to the population, exports and comparisons across review cycles."""
