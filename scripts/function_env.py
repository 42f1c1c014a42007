#!/usr/bin/env python3
"""Prints what an operator command needs to run a deployed function's binary from a
terminal, one KEY=VALUE a line: the function's own environment as Lambda has it, and the
stack output the command reads (DEAD_LETTER_QUEUE_URL, the function's own dead-letter queue).

  function_env.py CONFIG LOGICAL_ID

The stack name comes from CONFIG (infra/samconfig.toml), STACK_NAME overrides it; the region
and credentials are boto3's usual ones (AWS_REGION, AWS_PROFILE ...).
"""
import os
import sys
import tomllib

import boto3


def main(config_path, logical_id):
    with open(config_path, "rb") as f:
        config = tomllib.load(f)
    stack = os.environ.get("STACK_NAME") or config["default"]["global"]["parameters"]["stack_name"]
    cloudformation = boto3.client("cloudformation")
    outputs = {
        o["OutputKey"]: o["OutputValue"]
        for o in cloudformation.describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])
    }
    function = cloudformation.describe_stack_resource(StackName=stack, LogicalResourceId=logical_id)
    name = function["StackResourceDetail"]["PhysicalResourceId"]
    variables = (
        boto3.client("lambda").get_function_configuration(FunctionName=name).get("Environment", {}).get("Variables", {})
    )
    # Each function's operator command reads its own dead-letter queue.
    queue_output = {
        "ReconnectRetryFunction": "ReconnectDeadLetterQueueUrl",
        "EventsWebhookFunction": "EventsWebhookDeadLetterQueueUrl",
    }.get(logical_id)
    if queue_output in outputs:
        variables["DEAD_LETTER_QUEUE_URL"] = outputs[queue_output]
    for key, value in sorted(variables.items()):
        if "\n" in value:
            sys.exit(f"{logical_id}: {key} holds a newline; set it by hand")
        print(f"{key}={value}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
