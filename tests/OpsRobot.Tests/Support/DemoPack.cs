using OpsRobot.Testing;

namespace OpsRobot.Tests.Support;

/// <summary>A pack of small, real actions and aliases for end-to-end tests, written into a test home.</summary>
public static class DemoPack
{
    public static void WriteTo(TestHome home)
    {
        ArgumentNullException.ThrowIfNull(home);
        home.Write("packs/demo/pack.yaml", """
            name: demo
            version: 0.1.0
            description: Actions for tests
            """);

        home.Write("packs/demo/actions/say.yaml", """
            name: say
            runner_type: shell
            description: Print a message
            parameters:
              cmd:
                type: string
                immutable: true
                default: "printf '%s\n' {{ message }}"
              message:
                type: string
                required: true
                description: What to print
            """);
        home.Write("packs/demo/aliases/say.yaml", """
            name: say
            action_ref: demo.say
            description: Say something back through a shell
            formats:
              - "say {{ message }}"
            """);

        home.Write("packs/demo/actions/fail.yaml", """
            name: fail
            runner_type: shell
            description: Fail with a message on stderr
            parameters:
              cmd:
                type: string
                immutable: true
                default: "echo 'disk full on web01' >&2; exit 3"
            """);
        home.Write("packs/demo/aliases/fail.yaml", """
            name: fail
            action_ref: demo.fail
            description: Always fails
            formats: ["fail now"]
            """);

        home.Write("packs/demo/actions/sleep.yaml", """
            name: sleep
            runner_type: shell
            description: Sleep, printing before and after
            timeout: 4
            parameters:
              cmd:
                type: string
                immutable: true
                default: "echo start; sleep {{ seconds }}; echo done"
              seconds:
                type: integer
                default: 1
            """);
        home.Write("packs/demo/aliases/sleep.yaml", """
            name: sleep
            action_ref: demo.sleep
            description: Sleep a while
            formats: ["sleep {{ seconds=1 }}"]
            ack:
              format: "Sleeping {{ execution.parameters.seconds }}s as #{{ execution.id }}"
            result:
              format: "{% if execution.status == 'succeeded' %}Slept well{% else %}Sleep ended: {{ execution.status }}{% endif %}"
            """);

        home.Write("packs/demo/actions/deploy.yaml", """
            name: deploy
            runner_type: shell
            description: Pretend to deploy
            parameters:
              cmd:
                type: string
                immutable: true
                default: "echo deploying {{ app }} {{ version }} to {{ target }} as {{ user }}"
              app: {type: string, required: true}
              version: {type: string, default: latest}
              target: {type: string, enum: [staging, prod], default: staging}
              user: {type: string, default: nobody}
              token: {type: string, secret: true, default: s3cr3t-default}
            """);
        home.Write("packs/demo/aliases/deploy.yaml", """
            name: deploy
            action_ref: demo.deploy
            description: Deploy an application
            formats:
              - display: "deploy <app> [version] to <target>"
                representation:
                  - "deploy {{ app }} {{ version }} to {{ target }}"
                  - "deploy {{ app }} to {{ target=staging }}"
            immutable_parameters:
              user: chatops
            result:
              format: "Deployed: {{ execution.result.stdout | trim }}"
            """);

        home.Write("packs/demo/actions/flaky.yaml", """
            name: flaky
            runner_type: shell
            description: Fails every time, to exercise the retry policy
            parameters:
              cmd: {type: string, immutable: true, default: "echo attempt; exit 1"}
            """);
        home.Write("packs/demo/policies/flaky-retry.yaml", """
            name: flaky.retry
            resource_ref: demo.flaky
            policy_type: action.retry
            parameters:
              retry_on: failure
              max_retry_count: 2
              delay: 0
            """);

        home.Write("packs/demo/actions/single.yaml", """
            name: single
            runner_type: shell
            description: One at a time; a second is refused
            parameters:
              cmd: {type: string, immutable: true, default: "sleep 3"}
            """);
        home.Write("packs/demo/policies/single-concurrency.yaml", """
            name: single.concurrency
            resource_ref: demo.single
            policy_type: action.concurrency
            parameters:
              threshold: 1
              action: cancel
            """);

        home.Write("packs/demo/actions/chatty.yaml", """
            name: chatty
            runner_type: shell
            description: Prints a lot
            parameters:
              cmd: {type: string, immutable: true, default: "for i in $(seq 1 {{ lines }}); do echo \"line $i of output\"; done"}
              lines: {type: integer, default: 500}
            """);
        home.Write("packs/demo/aliases/chatty.yaml", """
            name: chatty
            action_ref: demo.chatty
            description: Print many lines
            formats: ["chatty {{ lines=500 }}"]
            """);

        home.Write("packs/demo/actions/long.yaml", """
            name: long
            runner_type: shell
            description: Runs for a minute (crash tests kill the server meanwhile)
            parameters:
              cmd: {type: string, immutable: true, default: "echo begun; sleep 61"}
            """);
        home.Write("packs/demo/aliases/long.yaml", """
            name: long
            action_ref: demo.long
            description: Run for a minute
            formats: ["long job"]
            """);

        home.Write("packs/demo/actions/wait.yaml", """
            name: wait
            runner_type: shell
            description: Sleeps; its timeout parameter (StackStorm's local runner parameter) limits the run
            parameters:
              cmd: {type: string, immutable: true, default: "sleep 20"}
              timeout: {type: integer, default: 1}
            """);

        home.Write("packs/demo/actions/nothing.yaml", """
            name: nothing
            runner_type: noop
            description: Does nothing
            """);
    }
}
