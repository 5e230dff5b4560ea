"""featurekit's example feature jobs: the demo's pipelines."""
