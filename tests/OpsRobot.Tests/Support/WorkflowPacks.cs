using OpsRobot.Testing;

namespace OpsRobot.Tests.Support;

/// <summary>The packs the workflow end-to-end tests run: written into a test's own home, never shared between tests.</summary>
internal static class WorkflowPacks
{
    /// <summary>
    /// The pack <c>leak</c> with <c>leak.tell</c>, a shell action that says its <c>message</c> and keeps a copy in
    /// <c>file</c> (the copy shows what the action itself was given), for the secret masking tests.
    /// </summary>
    public static void WriteTell(TestHome home)
    {
        home.Write("packs/leak/pack.yaml", "name: leak\nversion: 0.1.0\ndescription: Secrets passed on\n");
        home.Write("packs/leak/actions/tell.yaml", """
            name: tell
            runner_type: shell
            parameters:
              cmd:
                type: string
                immutable: true
                default: "echo {{ message }} | tee {{ file }}"
              message:
                type: string
                required: true
              file:
                type: string
                required: true
            """);
    }

    /// <summary>A pack with a three-step workflow whose middle step waits for a file to exist (pack <c>wf</c>, action <c>wf.flow</c>).</summary>
    public static void WriteFlow(TestHome home)
    {
        home.Write("packs/wf/pack.yaml", "name: wf\nversion: 0.1.0\ndescription: Workflow crash test\n");
        home.Write("packs/wf/actions/mark.yaml", """
            name: mark
            runner_type: shell
            parameters:
              cmd:
                type: string
                immutable: true
                default: "echo {{ name }} >> {{ log }}"
              name:
                type: string
                required: true
              log:
                type: string
                required: true
            """);
        home.Write("packs/wf/actions/gate.yaml", """
            name: gate
            runner_type: shell
            timeout: 120
            parameters:
              cmd:
                type: string
                immutable: true
                default: "echo gate-start >> {{ log }}; while [ ! -e {{ flag }} ]; do sleep 0.1; done; echo gate-end >> {{ log }}"
              log:
                type: string
                required: true
              flag:
                type: string
                required: true
            """);
        home.Write("packs/wf/actions/flow.yaml", """
            name: flow
            runner_type: workflow
            entry_point: workflows/flow.yaml
            timeout: 600
            parameters:
              log:
                type: string
                required: true
              flag:
                type: string
                required: true
            """);
        home.Write("packs/wf/actions/workflows/flow.yaml", """
            version: 1.0
            input:
              - log
              - flag
            tasks:
              step1:
                action: wf.mark name=step1 log=<% ctx(log) %>
                next:
                  - when: <% succeeded() %>
                    do: gate
              gate:
                action: wf.gate log=<% ctx(log) %> flag=<% ctx(flag) %>
                next:
                  - when: <% succeeded() %>
                    publish: gated=true
                    do: step3
              step3:
                action: wf.mark name=step3 log=<% ctx(log) %>
            output:
              - gated: <% ctx(gated) %>
            """);
    }

    /// <summary>
    /// A pack with a with-items workflow (pack <c>wi</c>, action <c>wi.items</c>): 30 items, two at a time; each item
    /// writes <c>item-N</c> to the log when it ends, and items from 10 on wait for the gate file first.
    /// </summary>
    public static void WriteItems(TestHome home)
    {
        home.Write("packs/wi/pack.yaml", "name: wi\nversion: 0.1.0\ndescription: With-items crash test\n");
        home.Write("packs/wi/actions/item.yaml", """
            name: item
            runner_type: shell
            timeout: 120
            parameters:
              cmd:
                type: string
                immutable: true
                default: "if [ {{ n }} -ge 10 ]; then while [ ! -e {{ flag }} ]; do sleep 0.1; done; fi; echo item-{{ n }} >> {{ log }}"
              n:
                type: integer
                required: true
              log:
                type: string
                required: true
              flag:
                type: string
                required: true
            """);
        home.Write("packs/wi/actions/items.yaml", """
            name: items
            runner_type: workflow
            entry_point: workflows/items.yaml
            timeout: 600
            parameters:
              log:
                type: string
                required: true
              flag:
                type: string
                required: true
            """);
        home.Write("packs/wi/actions/workflows/items.yaml", """
            version: 1.0
            input:
              - log
              - flag
            vars:
              - xs: <% range(30) %>
            tasks:
              each:
                with:
                  items: <% ctx(xs) %>
                  concurrency: 2
                action: wi.item n=<% item() %> log=<% ctx(log) %> flag=<% ctx(flag) %>
            """);
    }

    /// <summary>A pack with a workflow that asks alice (or the approvers role) before it goes on, and one that asks for values.</summary>
    public static void WriteAsks(TestHome home, string? route = "web:ops")
    {
        var routeLine = route is null ? string.Empty : $"      route: {route}\n";
        home.Write("packs/asks/pack.yaml", "name: asks\nversion: 0.1.0\ndescription: Inquiry tests\n");
        home.Write("roles/approvers.yaml", """
            name: approvers
            description: May answer the deploy question
            grants:
              - permission: execution.view
            users: [dave]
            """);
        home.Write("packs/asks/actions/gate.yaml", """
            name: gate
            runner_type: workflow
            entry_point: workflows/gate.yaml
            timeout: 3600
            parameters:
              ttl: {type: number, default: 30}
            """);
        home.Write("packs/asks/actions/workflows/gate.yaml", """
            version: 1.0
            input:
              - ttl
            tasks:
              ask:
                action: core.ask
                input:
                  question: Deploy booking 1.4 to production?
                  users: [alice]
                  roles: [approvers]
                  ttl: <% ctx(ttl) %>

            """ + routeLine + """
                next:
                  - when: <% succeeded() %>
                    publish: approved=<% result().approved %>
                    do: done
              done:
                action: core.echo message="deploying"
            output:
              - approved: <% ctx().approved %>
            """);
        home.Write("packs/asks/actions/values.yaml", """
            name: values
            runner_type: workflow
            entry_point: workflows/values.yaml
            timeout: 3600
            """);
        home.Write("packs/asks/actions/workflows/values.yaml", """
            version: 1.0
            tasks:
              ask:
                action: core.ask
                input:
                  question: Which version, and how many hosts?
                  schema:
                    type: object
                    properties:
                      version: {type: string}
                      hosts: {type: integer}
                      canary: {type: boolean}
                      env: {type: string, enum: [staging, production]}
                    required: [version, hosts]
                next:
                  - when: <% succeeded() %>
                    publish: version=<% result().version %> hosts=<% result().hosts %>
            output:
              - version: <% ctx(version) %>
              - hosts: <% ctx(hosts) %>
            """);
    }
}
