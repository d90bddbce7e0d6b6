using OpsRobot.Core.Aliases;

namespace OpsRobot.Core.Tests.Aliases;

public sealed class AliasFormatSpecTests
{
    [Fact]
    public void FromString_PlainFormat_IsShownAndMatched()
    {
        // kyle_reese / terminator fixtures of test_list_format_strings_from_aliases
        var spec = AliasFormatSpec.FromString("I need your {{item}}, your {{item2}} and your {{vehicle}}");

        spec.Display.ShouldBe("I need your {{item}}, your {{item2}} and your {{vehicle}}");
        spec.HelpText.ShouldBe(spec.Display);
        spec.Representations.ShouldBe([spec.Display!]);
        spec.MatchMultiple.ShouldBeFalse();
        spec.Compile().Single().Match("I need your clothes, your boots and your motorcycle")!.All
            .ShouldBe(new Dictionary<string, string> { ["item"] = "clothes", ["item2"] = "boots", ["vehicle"] = "motorcycle" });
    }

    [Fact]
    public void Create_DisplayAndRepresentation_HelpShowsDisplayAndRepresentationIsMatched()
    {
        // johnny_five_alive fixture of test_list_format_strings_from_aliases_with_display
        var spec = AliasFormatSpec.Create("Number 5 is {{status}}", ["Number 5 is {{status=alive}}"]);

        spec.HelpText.ShouldBe("Number 5 is {{status}}");
        spec.Compile().Single().Match("Number 5 is")!.Parameters["status"].ShouldBe("alive");
    }

    [Fact]
    public void Create_RepresentationOnly_IsMatchedButNotListedInHelp()
    {
        // data fixture of test_list_format_strings_from_aliases_with_representation_only
        var spec = AliasFormatSpec.Create(null, ["That's okay daddy. You can't hug a {{object}}."]);

        spec.Display.ShouldBeNull();
        spec.HelpText.ShouldBeNull();
        spec.Compile().Single().Match("That's okay daddy. You can't hug a bear.")!.Parameters["object"].ShouldBe("bear");
    }

    [Fact]
    public void Create_DisplayOnly_IsListedInHelpButMatchesNothing()
    {
        // andy fixture of test_list_format_strings_from_aliases_with_display_only
        var spec = AliasFormatSpec.Create("Watch this.", null);

        spec.HelpText.ShouldBe("Watch this.");
        spec.Representations.ShouldBeEmpty();
        spec.Compile().ShouldBeEmpty();
    }

    [Fact]
    public void Create_MatchMultiple_IsKept()
    {
        var spec = AliasFormatSpec.Create("fixes <issue_key>", ["(?:\\b|^)fixes (?P<issue_key>[A-Z][A-Z0-9]+-[0-9]+)(?:\\b|$)"], matchMultiple: true);

        spec.MatchMultiple.ShouldBeTrue();
        spec.Compile().Single().MatchAll("fixes AB-1 and fixes AB-2").Count.ShouldBe(2);
    }

    [Fact]
    public void Compile_MalformedRepresentation_Throws()
    {
        var spec = AliasFormatSpec.Create("deploy", ["deploy {{app"]);

        Should.Throw<AliasFormatException>(() => spec.Compile()).Column.ShouldBe(8);
    }
}
