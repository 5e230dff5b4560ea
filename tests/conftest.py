pytest_plugins = ["featurekit.testing.plugin"]
