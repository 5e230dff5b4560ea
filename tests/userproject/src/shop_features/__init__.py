"""shop_features: a user's featurekit jobs (the test user project of the cluster tests)."""
