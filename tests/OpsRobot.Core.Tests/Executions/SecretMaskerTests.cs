using System.Text.Json.Nodes;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Executions;

namespace OpsRobot.Core.Tests.Executions;

public sealed class SecretMaskerTests
{
    [Theory]
    [InlineData("inside other text", "token=SuperSecret123;", "token=********;")]
    [InlineData("every occurrence", "SuperSecret123 and SuperSecret123", "******** and ********")]
    [InlineData("no secret", "nothing to hide", "nothing to hide")]
    [InlineData("two secrets that overlap become one mask, so no part of either shows", "x=SuperSecret123-tail!", "x=********!")]
    [InlineData("a secret inside a longer one", "hunter2hunter2Secret and hunter2x", "******** and ********x")]
    public void Mask_Text_ReplacesEveryKnownSecret(string row, string text, string expected)
    {
        var masker = new SecretMasker(["SuperSecret123", "Secret123-tail", "hunter2", "hunter2hunter2Secret"]);

        masker.Mask(text).ShouldBe(expected, row);
    }

    [Fact]
    public void New_ValuesShorterThanTheMinimum_AreNotLookedFor()
    {
        var masker = new SecretMasker(["", "on", "abc", "abcd"]);

        masker.Secrets.ShouldBe(["abcd"]);
        masker.Mask("on abc abcd").ShouldBe("on abc ********", "masking 'on' would blank every such pair of letters in a log");
    }

    [Fact]
    public void Mask_Json_WalksObjectsArraysNumbersAndKeys()
    {
        var masker = new SecretMasker(["SuperSecret123", "424242"]);
        var value = JsonNode.Parse("""
            {"msg": "a SuperSecret123 b", "list": ["SuperSecret123", 1, true, null], "pin": 424242, "n": 7,
             "SuperSecret123": "as a key", "deep": {"x": [{"y": "zSuperSecret123z"}]}}
            """)!;

        var masked = masker.Mask(value)!;

        masked.ToJsonString().ShouldBe(
            """{"msg":"a ******** b","list":["********",1,true,null],"pin":"********","n":7,"********":"as a key","deep":{"x":[{"y":"z********z"}]}}""");
        value["msg"]!.GetValue<string>().ShouldBe("a SuperSecret123 b", "the original is left as it was");
    }

    [Fact]
    public void MaskParameters_MasksTheActionsSecretParametersWholeAndSecretValuesInTheOthers()
    {
        var action = new ActionDefinition("ops", "login", "shell")
        {
            Parameters = [new ParameterDefinition("pin", ParameterType.String) { Secret = true }, new ParameterDefinition("note", ParameterType.String)],
        };

        var masked = new SecretMasker(["SuperSecret123"]).MaskParameters(new JsonObject { ["pin"] = "12", ["note"] = "uses SuperSecret123" }, action);

        masked.ToJsonString().ShouldBe("""{"pin":"********","note":"uses ********"}""", "a secret parameter is masked by name, whatever its length");
    }

    [Fact]
    public void ValuesOf_ASecretValue_GivesItsStringsAndNumbersAsText()
    {
        SecretMasker.ValuesOf(JsonNode.Parse("""{"user": "deploy", "keys": ["k-1", 12345], "on": true}""")).ShouldBe(["deploy", "k-1", "12345"]);
        SecretMasker.ValuesOf(null).ShouldBeEmpty();
    }

    [Fact]
    public void Stream_PiecesThatAreNoSecret_PassAtOnce_AndAPossibleStartIsHeldUntilTheNextPiece()
    {
        var stream = new SecretMasker(["SuperSecret123"]).Stream();

        stream.Push("all fine\n").ShouldBe("all fine\n");
        stream.Push("then Super").ShouldBe("then ");
        stream.Push("Secret12").ShouldBe(string.Empty);
        stream.Push("3 and Supper").ShouldBe("******** and Supper");
        stream.Push(" end Su").ShouldBe(" end ");
        stream.Flush().ShouldBe("Su");
    }

    [Fact]
    public void Stream_AnEndlessRunOfOverlappingOccurrences_IsPassedOnNotHeldForever()
    {
        var stream = new SecretMasker(["aaaa"]).Stream();
        var all = new System.Text.StringBuilder();

        for (var i = 0; i < 100; i++)
        {
            var passed = stream.Push(new string('a', 100));
            passed.ShouldNotBeEmpty("what is kept back stays bounded");
            all.Append(passed);
        }

        all.Append(stream.Push("b")).Append(stream.Flush());
        all.ToString().ShouldNotContain("a");
        all.ToString().ShouldEndWith("********b");
    }

    [Fact]
    public void Stream_WithoutSecrets_PassesEverythingAsItIs()
    {
        var stream = SecretMasker.None.Stream();

        stream.Push("Super").ShouldBe("Super");
        stream.Flush().ShouldBeEmpty();
    }
}
