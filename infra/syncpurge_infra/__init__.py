"""The CDK app that deploys syncpurge: state machine, Lambdas, DataSync task, schedule, alarms."""
