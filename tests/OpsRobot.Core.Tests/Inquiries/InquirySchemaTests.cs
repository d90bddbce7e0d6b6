using System.Text.Json.Nodes;
using OpsRobot.Core.Access;
using OpsRobot.Core.Inquiries;
using OpsRobot.Core.Users;

namespace OpsRobot.Core.Tests.Inquiries;

public sealed class InquirySchemaTests
{
    private static readonly InquirySchema Deploy = InquirySchema.Parse(JsonNode.Parse("""
        {
          "type": "object",
          "properties": {
            "version": {"type": "string", "description": "The version to deploy"},
            "hosts": {"type": "integer"},
            "ratio": {"type": "number"},
            "canary": {"type": "boolean", "required": true},
            "env": {"type": "string", "enum": ["staging", "production"]}
          },
          "required": ["version"]
        }
        """));

    [Fact]
    public void Parse_WithoutSchema_IsTheApproveDenySchema()
    {
        InquirySchema.Parse(null).IsApproval.ShouldBeTrue();
        InquirySchema.Parse(new JsonObject()).Fields.Select(f => f.Name).ShouldBe(["approved", "comment"]);
    }

    [Fact]
    public void Parse_RequiredAsAListOrOnTheProperty_BothCount()
    {
        Deploy.Fields.Where(f => f.Required).Select(f => f.Name).ShouldBe(["version", "canary"]);
    }

    [Fact]
    public void ToJson_ThenParse_GivesTheSameSchema()
    {
        var again = InquirySchema.Parse(Deploy.ToJson());
        again.ToJson().ToJsonString().ShouldBe(Deploy.ToJson().ToJsonString());
        InquirySchema.Parse(InquirySchema.Approval.ToJson()).IsApproval.ShouldBeTrue();
    }

    [Theory]
    [InlineData("[1, 2]", "must be an object")]
    [InlineData("""{"type": "array", "properties": {"a": {"type": "string"}}}""", "type must be object")]
    [InlineData("""{"type": "object"}""", "needs properties")]
    [InlineData("""{"properties": {"a": {"type": "array"}}}""", "has type 'array'")]
    [InlineData("""{"properties": {"a": {}}}""", "has type '(none)'")]
    [InlineData("""{"properties": {"a b": {"type": "string"}}}""", "The property name 'a b' is not allowed")]
    [InlineData("""{"properties": {"a": {"type": "string"}}, "required": ["b"]}""", "required names 'b'")]
    [InlineData("""{"properties": {"a": {"type": "integer", "enum": ["x"]}}}""", "lists \"x\" in its enum")]
    [InlineData("""{"properties": {"a": {"type": "string", "enum": []}}}""", "enum that is not a list")]
    public void Parse_OutsideTheSubset_IsRefusedNamingTheProblem(string schema, string expected)
    {
        var ex = Should.Throw<InquirySchemaException>(() => InquirySchema.Parse(JsonNode.Parse(schema)));
        ex.Message.ShouldContain(expected);
    }

    [Fact]
    public void ParsePairs_TypesEachValueByItsField()
    {
        var response = Deploy.ParsePairs("version=\"1.4 rc\" hosts=-3 ratio=0.5 canary=yes env=production");

        response.ToJsonString().ShouldBe("""{"version":"1.4 rc","hosts":-3,"ratio":0.5,"canary":true,"env":"production"}""");
    }

    [Theory]
    [InlineData("canary=1", true)] // as an action's boolean parameter reads it
    [InlineData("canary=0", false)]
    [InlineData("canary=OFF", false)]
    public void ParsePairs_Booleans_ReadAsParametersDo(string canary, bool expected) =>
        Deploy.ParsePairs("version=1 " + canary)["canary"]!.GetValue<bool>().ShouldBe(expected);

    [Theory]
    [InlineData("canary=true", "The field 'version' is required.")]
    [InlineData("version=1", "The field 'canary' is required.")]
    [InlineData("hosts=1", "The fields 'version', 'canary' are required.")]
    [InlineData("version=1 canary=true hosts=2.5", "The field 'hosts' must be an integer; '2.5' is not one.")]
    [InlineData("version=1 canary=maybe", "The field 'canary' must be a boolean; 'maybe' is not one.")]
    [InlineData("version=1 canary=true ratio=NaN", "The field 'ratio' must be a number; 'NaN' is not one.")]
    [InlineData("version=1 canary=true env=moon", "The field 'env' must be one of \"staging\", \"production\"; \"moon\" is not.")]
    [InlineData("version=1 canary=true shell=rm", "There is no field 'shell' in this inquiry; its fields are version, hosts, ratio, canary, env.")]
    [InlineData("version=1 version=2 canary=true", "The field 'version' is given twice.")]
    [InlineData("version=\"1 canary=true", "opens a quote (\") that is never closed")]
    [InlineData("version 1", "'version' is not a field=value pair")]
    [InlineData("=1", "is not a field=value pair")]
    public void ParsePairs_BadAnswers_AreRefusedNamingTheField(string text, string expected)
    {
        var ex = Should.Throw<InquirySchemaException>(() => Deploy.ParsePairs(text));
        ex.Message.ShouldContain(expected);
    }

    [Fact]
    public void Validate_Json_ChecksTypesAndRefusesNullsAndLongText()
    {
        Deploy.Validate(new JsonObject { ["version"] = "1", ["canary"] = false, ["hosts"] = 4.0 })["hosts"]!.GetValue<double>().ShouldBe(4);
        Should.Throw<InquirySchemaException>(() => Deploy.Validate(new JsonObject { ["version"] = "1", ["canary"] = "true" }))
            .Message.ShouldBe("The field 'canary' must be a boolean; \"true\" is not one.");
        Should.Throw<InquirySchemaException>(() => Deploy.Validate(new JsonObject { ["version"] = null, ["canary"] = true }))
            .Message.ShouldContain("The field 'version' is null");
        Should.Throw<InquirySchemaException>(() => Deploy.Validate(new JsonObject { ["version"] = new string('x', InquirySchema.MaxTextLength + 1), ["canary"] = true }))
            .Message.ShouldContain("longer than 4096 characters");
        Should.Throw<InquirySchemaException>(() => Deploy.Validate(new JsonObject { ["version"] = new JsonArray(), ["canary"] = true }))
            .Message.ShouldContain("must be a string");
    }
}

public sealed class InquiryAccessTests
{
    private static InquiryRecord Inquiry(string[] users, string[] roles) => new()
    {
        Id = 7,
        ExecutionId = 1,
        ParametersHash = "x",
        Schema = InquirySchema.Approval,
        Users = users,
        Roles = roles,
        CreatedAt = DateTimeOffset.UnixEpoch,
        ExpiresAt = DateTimeOffset.UnixEpoch.AddHours(1),
    };

    private static Principal Person(string name, bool admin = false, bool linked = true, params string[] roles) => new()
    {
        Name = name,
        User = linked ? new UserRecord(1, name, name, admin, null, 0, null, DateTimeOffset.UnixEpoch, null) : null,
        Roles = [.. roles.Select(r => new Role(r, string.Empty, [], RoleOrigin.Store))],
        IsAdministrator = admin,
        Door = Doors.Chat,
    };

    [Theory]
    [InlineData("alice", false, true, "", true)]
    [InlineData("bob", false, true, "", false)]
    [InlineData("bob", false, true, "approvers", true)]
    [InlineData("bob", true, true, "", true)]
    [InlineData("alice", false, false, "", false)]
    public void Refusal_AllowsNamedUsersRoleMembersAndAdministrators_Only(string name, bool admin, bool linked, string role, bool allowed)
    {
        var inquiry = Inquiry(["alice"], ["approvers"]);
        var principal = Person(name, admin, linked, role.Length == 0 ? [] : [role]);

        (InquiryService.Refusal(inquiry, principal) is null).ShouldBe(allowed);
    }

    [Fact]
    public void Refusal_WhenNobodyIsNamed_AnyLinkedUserMayAnswer_AndTheRefusalSaysWhoMay()
    {
        InquiryService.Refusal(Inquiry([], []), Person("zoe")).ShouldBeNull();
        InquiryService.Refusal(Inquiry(["alice", "bob"], ["ops"]), Person("zoe")).ShouldBe("Only alice, bob or members of role ops may answer inquiry 7.");
    }

    [Fact]
    public void Question_ForAnApproval_HasApproveAndDenyButtons_AndTheTypedCommands()
    {
        var message = InquiryRunner.Question(Inquiry(["alice"], []) with { Question = "Ship it?", ParentId = 40 }, "!", DateTimeOffset.UnixEpoch);

        message.Text.ShouldStartWith("**Inquiry 7** from workflow #40: Ship it?");
        message.Text.ShouldContain("`!approve 7 [comment]`");
        message.Text.ShouldContain("Who may answer: alice. Expires in 60 min");
        message.Buttons.Select(b => $"{b.Label}={b.Command}").ShouldBe(["Approve=!approve 7", "Deny=!deny 7"]);
    }
}
